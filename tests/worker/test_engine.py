"""The engine's promises: exact frames at the asked steps, reproducibility, equality with plain diffusers."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

from service.contract import JobStatus
from service.errors import SpecError
from tests.support import run_spec
from worker.engine import ComparisonEngine
from worker.families import StableDiffusionFamily
from worker.manifest import Manifest
from worker.pipeline_files import SD15_SCHEDULER_CONFIG
from worker.registry import entry_by_id, model_catalog
from worker.scheduler_run import X0Tracker

# What the tiny SD 1.x model can run (flow-matching and zero-SNR entries are for other models).
SD1_CATALOG = model_catalog(StableDiffusionFamily(), {"_class_name": "PNDMScheduler", **SD15_SCHEDULER_CONFIG})
AVAILABLE = [entry.id for entry in SD1_CATALOG.available()]
STOCHASTIC = [entry.id for entry in SD1_CATALOG.available() if entry.stochastic]


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_every_scheduler_captures_frames_at_exactly_the_asked_steps(engine: ComparisonEngine) -> None:
    outcome, sink = run_spec(
        engine,
        schedulers=[{"name": name} for name in AVAILABLE],
        capture={"steps": [1, 4]},
        num_images=1,
        steps=5,
    )
    assert outcome.status is JobStatus.succeeded
    assert len(outcome.results) == len(AVAILABLE)
    for result in outcome.results:
        assert sorted({frame.step for frame in result.frames}) == [1, 4, 5], result.id
        assert all(frame.key in sink.files for frame in result.frames)
        assert result.grid in sink.files
        assert [step for step, _ in result.convergence] == [1, 4, 5]
    assert outcome.keys.contact_sheet in sink.files
    manifest = json.loads(sink.files[outcome.keys.manifest])
    assert [s["id"] for s in manifest["schedulers"]] == AVAILABLE
    # The stored manifest is the typed one, field for field and in order (the viewer and clients read it).
    assert list(manifest) == list(Manifest.model_fields)
    assert Manifest.model_validate(manifest) == outcome.manifest


def test_pndm_repeated_second_timestep_still_yields_the_step_1_frame(engine: ComparisonEngine) -> None:
    outcome, _ = run_spec(engine, schedulers=[{"name": "pndm"}], capture={"every": 1}, steps=4)
    (result,) = outcome.results
    assert result.timings.unet_calls == 5  # the second timestep repeats: N + 1 UNet calls
    assert sorted({frame.step for frame in result.frames}) == [1, 2, 3, 4]


@pytest.mark.parametrize("name", ["heun", "dpm2", "dpm2_a", "dpmpp_sde_tree"])
def test_order2_schedulers_two_unet_calls_per_step_one_frame_per_step(engine: ComparisonEngine, name: str) -> None:
    outcome, _ = run_spec(engine, schedulers=[{"name": name}], capture={"every": 1}, steps=4)
    (result,) = outcome.results
    assert result.timings.unet_calls == 2 * 4 - 1
    assert sorted({frame.step for frame in result.frames}) == [1, 2, 3, 4]


def test_every_scheduler_starts_from_the_same_noise_image_i_from_seed_plus_i(
    engine: ComparisonEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipe = engine.model.pipe
    original = pipe.prepare_latents
    seen: list[tuple[torch.Tensor, float]] = []

    def record(*args: object, **kwargs: object) -> torch.Tensor:
        latents = original(*args, **kwargs)
        seen.append((latents.clone(), float(pipe.scheduler.init_noise_sigma)))
        return latents

    monkeypatch.setattr(pipe, "prepare_latents", record)
    run_spec(
        engine,
        schedulers=[{"name": "ddim"}, {"name": "euler"}, {"name": "heun"}],
        seed=11,
        num_images=3,
        execution="sequential",
    )
    assert len(seen) == 3
    for image_index in range(3):
        expected = torch.randn((4, 8, 8), generator=torch.Generator().manual_seed(11 + image_index))
        for latents, sigma in seen:
            torch.testing.assert_close(latents[image_index] / sigma, expected, rtol=0, atol=1e-6)


def test_a_job_run_twice_is_bit_identical_stochastic_schedulers_included(engine: ComparisonEngine) -> None:
    assert {"euler_a", "ddpm", "dpm2_a", "dpmpp_sde", "dpmpp_2m_sde"} <= set(STOCHASTIC)
    fields = {"schedulers": [{"name": name} for name in [*STOCHASTIC, "euler"]], "capture": {"every": 2}}
    _, first_files = run_spec(engine, **fields)
    _, second_files = run_spec(engine, **fields)
    images = [key for key in first_files.files if key.endswith(".png")]
    assert images and sorted(images) == sorted(k for k in second_files.files if k.endswith(".png"))
    for key in images:
        assert first_files.files[key] == second_files.files[key], key


def test_dpmsolver_sde_noise_seed_comes_from_the_job_seed(engine: ComparisonEngine) -> None:
    first, first_files = run_spec(engine, schedulers=[{"name": "dpmpp_sde_tree"}], seed=5)
    other, other_files = run_spec(engine, schedulers=[{"name": "dpmpp_sde_tree"}], seed=6)
    assert first.results[0].effective_config["noise_sampler_seed"] == 5
    assert other.results[0].effective_config["noise_sampler_seed"] == 6
    # Without the seed it would read the global RNG; consuming it must not change the job's images.
    torch.manual_seed(1234)
    torch.randn(100)
    _, again_files = run_spec(engine, schedulers=[{"name": "dpmpp_sde_tree"}], seed=5)
    key = first.results[0].final_images[0]
    assert first_files.files[key] == again_files.files[key]
    assert first_files.files[key] != other_files.files[key]


def test_each_job_derives_schedulers_from_the_models_config_not_the_last_run(
    engine: ComparisonEngine,
) -> None:
    run_spec(engine, schedulers=[{"name": "dpmpp_2m_sde"}])
    outcome, _ = run_spec(engine, schedulers=[{"name": "deis"}])
    assert outcome.results[0].effective_config["beta_schedule"] == "scaled_linear"
    assert outcome.results[0].effective_config["algorithm_type"] == "deis"


def test_prompt_is_encoded_once_per_job(engine: ComparisonEngine) -> None:
    calls = []
    handle = engine.model.pipe.text_encoder.register_forward_hook(lambda *args: calls.append(1))
    try:
        run_spec(engine, schedulers=[{"name": "euler"}, {"name": "ddim"}, {"name": "heun"}], guidance_scale=7.5)
    finally:
        handle.remove()
    assert len(calls) == 2  # the prompt and the empty negative prompt, once for three schedulers


def test_cancel_ends_the_run_at_that_step_and_keeps_what_was_captured(engine: ComparisonEngine) -> None:
    checks = 0

    def stop_after_third_step() -> bool:
        nonlocal checks
        checks += 1
        return checks >= 3

    from service.contract import ComparisonSpec, StorageLayout
    from service.storage import MemoryStorage

    spec = ComparisonSpec(
        prompt="a square",
        steps=8,
        num_images=1,
        schedulers=[{"name": "euler"}, {"name": "ddim"}],
        capture={"every": 1},
        execution="sequential",
    )
    sink = MemoryStorage()
    outcome = engine.run(spec, sink, StorageLayout(""), should_stop=stop_after_third_step)
    assert outcome.status == "canceled"
    (result,) = outcome.results  # the second scheduler never ran
    assert result.status == "canceled"
    assert result.timings.unet_calls == 3
    assert sorted({frame.step for frame in result.frames}) == [1, 2, 3]
    assert all(frame.key in sink.files for frame in result.frames)
    assert result.final_images == []
    assert json.loads(sink.files[outcome.keys.manifest])["status"] == "canceled"


def test_denoised_frames_use_the_schedulers_x0(engine: ComparisonEngine) -> None:
    outcome, sink = run_spec(engine, schedulers=[{"name": "euler"}], frames="denoised", capture={"every": 2})
    latent, latent_sink = run_spec(engine, schedulers=[{"name": "euler"}], frames="latent", capture={"every": 2})
    first_denoised = sink.files[outcome.results[0].frames[0].key]
    first_latent = latent_sink.files[latent.results[0].frames[0].key]
    assert first_denoised != first_latent


def test_x0_computed_for_dpmsolver_matches_its_own_data_prediction(engine: ComparisonEngine) -> None:
    scheduler = entry_by_id("dpmpp_2m").scheduler_class.from_config(engine.model.scheduler_config)
    scheduler.set_timesteps(5)
    tracker = X0Tracker(scheduler)
    generator = torch.Generator().manual_seed(0)
    sample = torch.randn((1, 4, 8, 8), generator=generator)
    for timestep in scheduler.timesteps[:3]:
        eps = torch.randn((1, 4, 8, 8), generator=generator)
        sample = scheduler.step(eps, timestep, sample).prev_sample
        # dpmsolver++ keeps its x0 (data) prediction in model_outputs[-1]
        torch.testing.assert_close(tracker.latest, scheduler.model_outputs[-1], rtol=1e-5, atol=1e-5)


def test_approx_decoder_gives_frames_at_image_size_and_records_its_projection(
    engine: ComparisonEngine,
) -> None:
    outcome, sink = run_spec(engine, schedulers=[{"name": "euler"}], decoder="approx", frames="denoised")
    frame = pixels(sink.files[outcome.results[0].frames[0].key])
    final = pixels(sink.files[outcome.results[0].final_images[0]])
    assert frame.shape == final.shape == (64, 64, 3)
    manifest = json.loads(sink.files[outcome.keys.manifest])
    projection = manifest["approx_projection"]
    assert projection["source"] == "fit"  # the tiny model's VAE is not SD 1.x's
    assert np.array(projection["matrix"]).shape == (4, 3) and len(projection["bias"]) == 3


def test_manifest_records_what_reproduces_the_run(engine: ComparisonEngine) -> None:
    outcome, sink = run_spec(engine, schedulers=[{"name": "dpmpp_singlestep"}, {"name": "euler_a"}], seed=9)
    manifest = json.loads(sink.files[outcome.keys.manifest])
    assert manifest["seeds"]["images"] == [9, 10]
    assert manifest["model"]["id"] == "schedlab/tiny-sd" and manifest["model"]["revision"]
    assert manifest["model"]["dtype"] == "float32" and manifest["model"]["device"] == "cpu"
    assert set(manifest["versions"]) >= {"torch", "diffusers", "transformers"}
    assert manifest["similarity"]["schedulers"] == ["dpmpp_singlestep", "euler_a"]
    assert len(manifest["similarity"]["matrix"]) == 2
    assert manifest["convergence"]["emergence_threshold"] > 0


def test_dpmsolver_singlestep_config_is_recorded_after_set_timesteps_rewrites_it(
    engine: ComparisonEngine,
) -> None:
    asked, _ = run_spec(engine, schedulers=[{"name": "dpmpp_singlestep", "config": {"lower_order_final": False}}])
    default, _ = run_spec(engine, schedulers=[{"name": "dpmpp_singlestep"}])
    # set_timesteps turns lower_order_final on whenever final_sigmas_type is "zero": that is what ran, and both
    # runs are the same run, so the manifest says so.
    for outcome in (asked, default):
        config = outcome.results[0].effective_config
        assert config["final_sigmas_type"] == "zero" and config["lower_order_final"] is True
    assert asked.results[0].final_images and default.results[0].convergence == asked.results[0].convergence


def test_bad_config_value_is_rejected_before_any_model_work(engine: ComparisonEngine) -> None:
    calls = []
    handle = engine.model.pipe.unet.register_forward_hook(lambda *args: calls.append(1))
    try:
        with pytest.raises(SpecError) as error:
            run_spec(
                engine,
                schedulers=[
                    {"name": "euler"},
                    {"name": "dpmpp_2m", "config": {"use_karras_sigmas": True, "use_beta_sigmas": True}},
                ],
            )
    finally:
        handle.remove()
    assert error.value.field == "schedulers[1].config"
    assert calls == []
