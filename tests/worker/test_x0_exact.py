"""x0 ("denoised") predictions checked per scheduler against the scheduler's own computation of them.

`pred_original_sample` where the scheduler returns it; `convert_model_output` (taken before the step) for
DPM-Solver, UniPC and DEIS; the closed form of the forward process for PNDM. Epsilon and v-prediction configs.
"""

from __future__ import annotations

import inspect

import pytest
import torch
from diffusers import StableDiffusionPipeline

from tests.support import run_spec
from tests.worker.plain_diffusers import SD1_CATALOG, record_x0, user_scheduler
from worker.engine import ComparisonEngine
from worker.scheduler_run import X0Tracker

AVAILABLE = [entry.id for entry in SD1_CATALOG.available()]
DETERMINISTIC = [entry.id for entry in SD1_CATALOG.available() if not entry.stochastic]

# Where the last x0 lands, as relative latent distance ||x0(last step) - final|| / ||final|| (README, "Frames"):
# schedulers whose last step is first order to sigma = 0 end exactly on their last x0 (up to rounding);
# LMS ends on a multistep combination of x0s; DDIM, PNDM and DEIS end at the first training noise level
# (alphas_cumprod[0] = 0.99915, sigma ~ 0.029) rather than at zero, so a little noise remains.
LANDS_EXACTLY = 1e-4
ENDS_ABOVE_ZERO_NOISE = {"ddim": 0.01, "ddim_sd_explicit": 0.01, "pndm": 0.01, "deis": 0.01}


@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction"])
@pytest.mark.parametrize("entry_id", AVAILABLE)
def test_x0_tracker_equals_the_schedulers_own_x0(
    plain_pipe: StableDiffusionPipeline, entry_id: str, prediction_type: str
) -> None:
    steps = 5
    tracked = user_scheduler(plain_pipe, entry_id, seed=0, prediction_type=prediction_type)
    reference = user_scheduler(plain_pipe, entry_id, seed=0, prediction_type=prediction_type)
    tracker = X0Tracker(tracked)
    expected: list[torch.Tensor] = []
    record_x0(reference, expected)
    for scheduler in (tracked, reference):
        scheduler.set_timesteps(steps)
    inputs = torch.Generator().manual_seed(1)
    sample = torch.randn((2, 4, 8, 8), generator=inputs) * tracked.init_noise_sigma
    tracked_sample = reference_sample = sample
    noise = (torch.Generator().manual_seed(2), torch.Generator().manual_seed(2))
    takes_generator = "generator" in inspect.signature(tracked.step).parameters  # as the pipeline decides
    for call, timestep in enumerate(tracked.timesteps):
        model_output = torch.randn((2, 4, 8, 8), generator=inputs)
        extra = ({"generator": noise[0]}, {"generator": noise[1]}) if takes_generator else ({}, {})
        tracked_sample = tracked.step(model_output, timestep, tracked_sample, **extra[0]).prev_sample
        reference_sample = reference.step(model_output, timestep, reference_sample, **extra[1]).prev_sample
        assert tracker.latest is not None
        torch.testing.assert_close(tracker.latest, expected[call], rtol=1e-5, atol=1e-5, msg=f"{entry_id} call {call}")
    torch.testing.assert_close(tracked_sample, reference_sample, rtol=0, atol=0)  # the wrapper changes nothing


def test_the_last_x0_of_a_deterministic_scheduler_lands_on_its_final_latent(engine: ComparisonEngine) -> None:
    steps = 6
    outcome, _ = run_spec(
        engine, schedulers=[{"name": name} for name in DETERMINISTIC], steps=steps, capture={"steps": [1]}
    )
    for result in outcome.results:
        (first_step, first), (last_step, last) = result.convergence
        assert (first_step, last_step) == (1, steps)
        bound = ENDS_ABOVE_ZERO_NOISE.get(result.id, LANDS_EXACTLY)
        assert last <= bound, (result.id, last, bound)
        assert first > 10 * last  # and the step-1 prediction is far from it: the curve measures something
