"""A1111 / ComfyUI names run what those UIs run: measured against k-diffusion's reference samplers."""

from __future__ import annotations

import pytest
import torch

from benchmarks import parity
from tests.support import run_spec
from worker.engine import ComparisonEngine
from worker.model import LoadedModel

# Names whose schedlab preset must reproduce k-diffusion's sampler (docs/data/parity.json: ≤ 1e-3 on both models):
# A1111 names, and ComfyUI sampler + schedule names resolved to schedule overrides.
MATCHING = ["Euler", "Euler a", "Heun", "LMS Karras", "euler simple", "heun exponential"]


@pytest.mark.slow
@pytest.mark.parametrize("name", MATCHING)
def test_a1111_names_reproduce_k_diffusion_samplers_on_the_tiny_model(tiny_model: LoadedModel, name: str) -> None:
    sampler, schedule = parity.A1111_NAMES.get(name) or tuple(name.split(" "))  # type: ignore[assignment]
    found = parity.measure(tiny_model, name, sampler, schedule, seeds=(0,), steps=10)
    assert found.latent_distance <= parity.MATCH_TOLERANCE, found
    # the reference's own sigma schedule (k-diffusion), not schedlab's, is what it is held to
    assert found.max_sigma_difference is not None and found.max_sigma_difference < 1e-3


@pytest.mark.slow
def test_a1111_names_that_differ_are_measured_as_differing(tiny_model: LoadedModel) -> None:
    # DPM2 drops the penultimate sigma in A1111; KDPM2 cannot: the harness must see that, or it sees nothing.
    found = parity.measure(tiny_model, "DPM2", "dpm_2", "normal", seeds=(0,), steps=10)
    assert found.latent_distance > parity.MATCH_TOLERANCE


@pytest.mark.parametrize("name", ["DPM++ SDE", "dpmpp_sde karras"])
def test_a1111_dpmpp_sde_is_stochastic_brownian_tree_noise_not_the_deterministic_singlestep(
    engine: ComparisonEngine, name: str
) -> None:
    """diffusers' docs map A1111's "DPM++ SDE" to DPMSolverSinglestep (deterministic); A1111 and ComfyUI run
    k-diffusion's sample_dpmpp_sde, whose noise comes from a Brownian tree seeded by the seed."""
    first, first_files = run_spec(engine, schedulers=[{"name": name}], seed=5, num_images=1)
    _, again_files = run_spec(engine, schedulers=[{"name": name}], seed=5, num_images=1)
    # Same initial noise (seed 5), another Brownian tree: a stochastic sampler must give another image.
    other_tree, other_files = run_spec(
        engine, schedulers=[{"name": name, "config": {"noise_sampler_seed": 6}}], seed=5, num_images=1
    )
    (result,) = first.results
    assert result.class_name == "DPMSolverSDEScheduler" and result.stochastic
    assert result.effective_config["noise_sampler_seed"] == 5
    key = result.final_images[0]
    assert first_files.files[key] == again_files.files[key]
    assert first_files.files[key] != other_files.files[other_tree.results[0].final_images[0]]


def test_k_diffusion_loads_without_its_training_dependencies() -> None:
    sampling, external = parity.k_diffusion()
    assert callable(sampling.sample_dpmpp_sde) and external.DiscreteEpsDDPMDenoiser
    assert "k_diffusion" not in __import__("sys").modules  # the package __init__ never ran
    sigmas = sampling.get_sigmas_karras(5, 0.03, 14.6)
    assert torch.isclose(sigmas[0], torch.tensor(14.6)) and sigmas[-1] == 0
