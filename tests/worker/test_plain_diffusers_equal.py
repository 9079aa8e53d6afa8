"""Final images equal plain diffusers, built as a user would build it from the README; the README's statements.

The plain side never sees the engine's effective config: it is `Cls.from_config(pipe.scheduler.config,
**documented preset)` on a pipeline loaded on its own (tests/worker/plain_diffusers.py).
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch
from diffusers import DPMSolverSDEScheduler, StableDiffusionPipeline
from PIL import Image

from service.storage import MemoryStorage
from tests.support import run_spec
from tests.worker.plain_diffusers import PROMPT, SD1_CATALOG, plain_run, user_images, user_scheduler
from worker.engine import ComparisonEngine

AVAILABLE = [entry.id for entry in SD1_CATALOG.available()]
SEED, STEPS, IMAGES, GUIDANCE = 3, 5, 2, 6.0

# README, "Frames, decoders and metrics": Euler a equals DDPM up to float rounding.
EULER_A_DDPM_LATENT_TOLERANCE = 1e-4  # max |latent difference| / max |latent|
EULER_A_DDPM_PIXEL_SHARE = 0.001  # at most this share of 8-bit values differ, by one level


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)


def engine_finals(
    engine: ComparisonEngine, *names: str, **fields: object
) -> tuple[list[list[np.ndarray]], MemoryStorage]:
    spec = {"seed": SEED, "num_images": IMAGES, "steps": STEPS, "guidance_scale": GUIDANCE, "prompt": PROMPT}
    outcome, sink = run_spec(engine, schedulers=[{"name": name} for name in names], **{**spec, **fields})
    return [[pixels(sink.files[key]) for key in result.final_images] for result in outcome.results], sink


@pytest.mark.parametrize("entry_id", AVAILABLE)
def test_final_images_equal_plain_diffusers_built_as_a_user_would(
    engine: ComparisonEngine, plain_pipe: StableDiffusionPipeline, entry_id: str
) -> None:
    (got,), _ = engine_finals(engine, entry_id)
    scheduler = user_scheduler(plain_pipe, entry_id, SEED)
    want = user_images(plain_pipe, scheduler, steps=STEPS, seed=SEED, num_images=IMAGES, guidance_scale=GUIDANCE)
    assert len(got) == len(want) == IMAGES
    for image_index, (a, b) in enumerate(zip(got, want, strict=True)):
        assert np.array_equal(a, np.asarray(b)), f"{entry_id}: image {image_index} differs from plain diffusers"


def test_dpmsolver_sde_equals_plain_diffusers_only_when_given_noise_sampler_seed(
    engine: ComparisonEngine, plain_pipe: StableDiffusionPipeline
) -> None:
    """The README's exception: DPMSolverSDE ignores the generator; without `noise_sampler_seed` it reads the
    global RNG, so plain diffusers reproduces a job only with `noise_sampler_seed=<the job's seed>`."""
    (got,), _ = engine_finals(engine, "dpmpp_sde_tree")
    run = {"steps": STEPS, "seed": SEED, "num_images": IMAGES, "guidance_scale": GUIDANCE}
    seeded = user_scheduler(plain_pipe, "dpmpp_sde", SEED)  # the preset plus noise_sampler_seed
    assert all(
        np.array_equal(a, np.asarray(b)) for a, b in zip(got, user_images(plain_pipe, seeded, **run), strict=True)
    )
    unseeded = []
    for global_seed in (0, 1):
        torch.manual_seed(global_seed)
        preset = next(e for e in SD1_CATALOG.entries if e.id == "dpmpp_sde").preset_config
        scheduler = DPMSolverSDEScheduler.from_config(plain_pipe.scheduler.config, **preset)
        unseeded.append([np.asarray(image).astype(int) for image in user_images(plain_pipe, scheduler, **run)])
    assert not np.array_equal(unseeded[0][0], unseeded[1][0])  # the global RNG decides
    assert not any(np.array_equal(a, b) for a, b in zip(got, unseeded[0], strict=True))


def test_euler_a_equals_ddpm_up_to_float_rounding(
    engine: ComparisonEngine, plain_pipe: StableDiffusionPipeline
) -> None:
    """README: Euler a as the notebook built it (the model's own "leading" timesteps, not the A1111 preset's
    "linspace") and DDPM share timesteps and noise from the same generators; equal within the stated tolerance."""
    steps, images = 12, 4
    notebook_euler_a = {"name": "euler_a", "config": {"timestep_spacing": "leading"}}
    spec = {"seed": SEED, "num_images": images, "steps": steps, "guidance_scale": 7.5, "prompt": PROMPT}
    outcome, sink = run_spec(engine, schedulers=[notebook_euler_a, {"name": "ddpm"}], **spec)
    euler_a, ddpm = ([pixels(sink.files[key]) for key in result.final_images] for result in outcome.results)
    for a, b in zip(euler_a, ddpm, strict=True):
        difference = np.abs(a - b)
        assert difference.max() <= 1 and (difference > 0).mean() <= EULER_A_DDPM_PIXEL_SHARE
    run = {"steps": steps, "seed": SEED, "num_images": images, "guidance_scale": 7.5}
    latents = [
        plain_run(plain_pipe, scheduler, **run).final_latents
        for scheduler in (
            user_scheduler(plain_pipe, "euler_a", SEED, timestep_spacing="leading"),
            user_scheduler(plain_pipe, "ddpm", SEED),
        )
    ]
    assert latents[0] is not None and latents[1] is not None
    scale = float(latents[1].abs().max())
    assert float((latents[0] - latents[1]).abs().max()) <= EULER_A_DDPM_LATENT_TOLERANCE * scale


def test_ddim_from_the_models_config_equals_ddim_with_the_explicit_sd_config(engine: ComparisonEngine) -> None:
    """README: with SD 1.5's scheduler config (clip_sample and set_alpha_to_one both false), the experiment's two
    DDIMs give identical images; DDIM's class defaults (clip_sample on) do not."""
    (ddim, explicit, class_defaults), _ = engine_finals(engine, "ddim", "ddim_sd_explicit", "ddim_class_defaults")
    assert all(np.array_equal(a, b) for a, b in zip(ddim, explicit, strict=True))
    assert not any(np.array_equal(a, b) for a, b in zip(ddim, class_defaults, strict=True))


def test_the_recorded_effective_config_is_what_ran_after_set_timesteps(
    engine: ComparisonEngine, plain_pipe: StableDiffusionPipeline
) -> None:
    outcome, _ = run_spec(engine, schedulers=[{"name": name} for name in AVAILABLE], steps=STEPS, seed=SEED)
    for result in outcome.results:
        scheduler = user_scheduler(plain_pipe, result.id, SEED)
        scheduler.set_timesteps(STEPS)  # as the pipeline does before its loop
        ran = {key: value for key, value in dict(scheduler.config).items() if not key.startswith("_")}
        assert result.effective_config == json.loads(json.dumps(ran)), result.id
    singlestep = next(r for r in outcome.results if r.class_name == "DPMSolverSinglestepScheduler")
    assert singlestep.effective_config["lower_order_final"] is True  # set_timesteps turned it on
