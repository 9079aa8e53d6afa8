"""Frames checked by content against plain diffusers, for every available registry entry.

Frame k of a job must be the plain pipeline's state after scheduler step k: its callback latents (`latent` frames)
or the scheduler's own x0 (`denoised` frames) at the UNet call where step k completes. That call is worked out
here from the scheduler's own timesteps and order (tests/worker/plain_diffusers.py), never from the engine's
counter, so labelling frames by UNet call (PNDM's lost step-1 frame, Heun's half steps) fails these tests.
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pytest
from diffusers import StableDiffusionPipeline
from PIL import Image

from service.contract import ComparisonSpec, StorageLayout
from service.storage import MemoryStorage
from tests.worker.plain_diffusers import PROMPT, SD1_CATALOG, call_of_each_step, decode, plain_run, user_scheduler
from worker.engine import ComparisonEngine
from worker.scheduler_run import RunListener

AVAILABLE = [entry.id for entry in SD1_CATALOG.available()]
STEPS = 4
SEED = 21
IMAGES = 2
GUIDANCE = 6.0


class ProgressLog(RunListener):
    def __init__(self) -> None:
        self.steps_done: list[int] = []

    def on_progress(self, scheduler_index: int, scheduler: str, steps_done: int, steps_total: int, **step: Any) -> None:
        assert steps_total == STEPS
        self.steps_done.append(steps_done)


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def run_engine(
    engine: ComparisonEngine, entry_id: str, frames: str, config: dict | None = None
) -> tuple[dict[int, list[np.ndarray]], ProgressLog]:
    spec = ComparisonSpec(
        prompt=PROMPT,
        seed=SEED,
        num_images=IMAGES,
        steps=STEPS,
        guidance_scale=GUIDANCE,
        schedulers=[{"name": entry_id, "config": config or {}}],
        capture={"every": 1},
        frames=frames,
        decoder="vae",
    )
    sink, progress = MemoryStorage(), ProgressLog()
    outcome = engine.run(spec, sink, StorageLayout(""), listener=progress)
    (result,) = outcome.results
    by_step: dict[int, list[np.ndarray]] = {}
    for frame in sorted(result.frames, key=lambda f: (f.step, f.image_index)):
        by_step.setdefault(frame.step, []).append(pixels(sink.files[frame.key]))
    return by_step, progress


def expected_frames(
    plain_pipe: StableDiffusionPipeline, entry_id: str, frames: str, config: dict | None = None
) -> dict[int, list[np.ndarray]]:
    scheduler = user_scheduler(plain_pipe, entry_id, SEED, **(config or {}))
    run = plain_run(plain_pipe, scheduler, steps=STEPS, seed=SEED, num_images=IMAGES, guidance_scale=GUIDANCE)
    source = run.latents_by_call if frames == "latent" else run.x0_by_call
    assert len(source) == len(scheduler.timesteps)  # one entry per UNet call
    return {
        step: [np.asarray(image) for image in decode(plain_pipe, source[call])]
        for step, call in call_of_each_step(scheduler, STEPS).items()
    }


def assert_same_frames(
    got: dict[int, list[np.ndarray]], want: dict[int, list[np.ndarray]], label: str, rounding: bool = False
) -> None:
    """Equal pixels; with `rounding`, up to one 8-bit level on at most 1 % of values (x0 computed in another
    algebraically equal order, e.g. DEIS's x0 recovered from its epsilon form, rounds differently)."""
    assert sorted(got) == sorted(want) == list(range(1, STEPS + 1)), label
    for step in want:
        assert len(got[step]) == IMAGES, (label, step)
        for image_index, (a, b) in enumerate(zip(got[step], want[step], strict=True)):
            where = f"{label}: step {step}, image {image_index} differs from plain diffusers"
            difference = np.abs(a.astype(int) - b.astype(int))
            if not rounding:
                assert not difference.any(), where
            else:
                assert difference.max() <= 1 and (difference > 0).mean() <= 0.01, (where, difference.max())


@pytest.mark.parametrize("entry_id", AVAILABLE)
def test_latent_frame_k_is_the_plain_pipelines_latents_when_step_k_completes(
    engine: ComparisonEngine, plain_pipe: StableDiffusionPipeline, entry_id: str
) -> None:
    got, progress = run_engine(engine, entry_id, "latent")
    assert_same_frames(got, expected_frames(plain_pipe, entry_id, "latent"), entry_id)
    # Progress counts scheduler steps: one report per step, never past `steps`, ending at it.
    assert progress.steps_done == list(range(1, STEPS + 1)), progress.steps_done


@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction"])
@pytest.mark.parametrize("entry_id", AVAILABLE)
def test_denoised_frame_k_is_the_schedulers_own_x0_when_step_k_completes(
    engine: ComparisonEngine, plain_pipe: StableDiffusionPipeline, entry_id: str, prediction_type: str
) -> None:
    config = {"prediction_type": prediction_type}
    got, _ = run_engine(engine, entry_id, "denoised", config)
    want = expected_frames(plain_pipe, entry_id, "denoised", config)
    assert_same_frames(got, want, f"{entry_id} {prediction_type}", rounding=True)


def test_the_step_rule_finds_pndms_repeat_and_order2_half_steps(plain_pipe: StableDiffusionPipeline) -> None:
    """The independent rule itself, on the two quirks it exists for (PNDM's timesteps [751, 501, 501, 251, 1])."""
    pndm = user_scheduler(plain_pipe, "pndm", SEED)
    pndm.set_timesteps(4)
    assert pndm.timesteps.tolist() == [751, 501, 501, 251, 1]
    assert call_of_each_step(pndm, 4) == {1: 1, 2: 2, 3: 3, 4: 4}  # call 0 is the repeat's provisional half
    heun = user_scheduler(plain_pipe, "heun", SEED)
    heun.set_timesteps(4)
    assert len(heun.timesteps) == 7
    assert call_of_each_step(heun, 4) == {1: 1, 2: 3, 3: 5, 4: 6}


@pytest.mark.parametrize("entry_id", ["euler", "pndm", "heun"])
def test_approx_frames_are_the_recorded_linear_projection_of_the_plain_pipelines_latents(
    engine: ComparisonEngine, plain_pipe: StableDiffusionPipeline, entry_id: str
) -> None:
    """README: rgb = latent @ matrix + bias in [-1, 1], then (x + 1) / 2 as 8-bit, each latent pixel an 8x8 block."""
    spec = ComparisonSpec(
        prompt=PROMPT,
        seed=SEED,
        num_images=IMAGES,
        steps=STEPS,
        guidance_scale=GUIDANCE,
        schedulers=[{"name": entry_id}],
        capture={"every": 1},
        frames="latent",
        decoder="approx",
    )
    sink = MemoryStorage()
    outcome = engine.run(spec, sink, StorageLayout(""))
    projection = json.loads(sink.files[outcome.keys.manifest])["approx_projection"]
    assert projection["source"] == "fit"
    matrix, bias = np.array(projection["matrix"]), np.array(projection["bias"])
    scheduler = user_scheduler(plain_pipe, entry_id, SEED)
    run = plain_run(plain_pipe, scheduler, steps=STEPS, seed=SEED, num_images=IMAGES, guidance_scale=GUIDANCE)
    calls = call_of_each_step(scheduler, STEPS)
    assert sorted({frame.step for frame in outcome.results[0].frames}) == list(range(1, STEPS + 1))
    for frame in outcome.results[0].frames:
        latent = run.latents_by_call[calls[frame.step]][frame.image_index].double().numpy()
        rgb = np.clip(np.moveaxis(latent, 0, -1) @ matrix + bias, -1, 1)
        expected = np.round((rgb + 1) * 127.5).repeat(8, axis=0).repeat(8, axis=1)
        got = pixels(sink.files[frame.key]).astype(float)
        assert np.abs(got - expected).max() <= 1, (entry_id, frame.step)  # float32 vs float64 rounding
