"""Model families: every compatible scheduler on each tiny family model equals the plain family pipeline, frames
land at completed steps, reruns repeat, x0 is right for v-prediction and flow, and what a model cannot run is
refused before any model work, naming the scheduler, the model and the reason."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from service.contract import ComparisonSpec, Limits, check_spec
from service.errors import SpecError
from service.settings import Settings
from tests.support import run_spec
from worker.engine import ComparisonEngine
from worker.families import UnsupportedModelError, family_of
from worker.model import LoadedModel, load_model
from worker.registry import entry_by_id, model_catalog
from worker.scheduler_run import X0Tracker
from worker.tiny_families import (
    FLUX_DEV_SCHEDULER_CONFIG,
    SD2_V_SCHEDULER_CONFIG,
    SD3_SCHEDULER_CONFIG,
    SDXL_SCHEDULER_CONFIG,
)

FAMILY_MODELS = {
    "tiny-sdxl": ("sdxl", SDXL_SCHEDULER_CONFIG),
    "tiny-sd2-v": ("sd", SD2_V_SCHEDULER_CONFIG),
    "tiny-sd3": ("sd3", SD3_SCHEDULER_CONFIG),
    "tiny-flux": ("flux", FLUX_DEV_SCHEDULER_CONFIG),
}
PIPELINES = {
    "sd": "StableDiffusionPipeline",
    "sdxl": "StableDiffusionXLPipeline",
    "sd3": "StableDiffusion3Pipeline",
    "flux": "FluxPipeline",
}


def _catalog(name: str):  # type: ignore[no-untyped-def]
    family_name, scheduler_config = FAMILY_MODELS[name]
    return model_catalog(family_of({"_class_name": PIPELINES[family_name]}), scheduler_config)


# (model, scheduler) for every scheduler each model's catalog says it can run.
CASES = [(name, entry.id) for name in FAMILY_MODELS for entry in _catalog(name).available()]

_engines: dict[str, ComparisonEngine] = {}


@pytest.fixture(scope="session")
def family_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(tmp_path_factory.mktemp("family-models"))


def engine_for(name: str, cache: Path) -> ComparisonEngine:
    if name not in _engines:
        model = load_model(Settings(model=name, model_cache_dir=cache, device="cpu", torch_threads=1))
        _engines[name] = ComparisonEngine(model)
    return _engines[name]


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_every_family_is_covered_with_its_schedulers() -> None:
    by_model: dict[str, list[str]] = {}
    for name, scheduler in CASES:
        by_model.setdefault(name, []).append(scheduler)
    assert {"euler", "dpmpp_2m_karras", "heun"} <= set(by_model["tiny-sdxl"])
    assert {"ddim_zero_snr", "euler_zero_snr", "dpmpp_2m"} <= set(by_model["tiny-sd2-v"])
    assert set(by_model["tiny-sd3"]) == {
        "flow_euler",
        "flow_euler_karras",
        "flow_heun",
        "flow_dpmpp_2m",
        "flow_unipc",
        "flow_deis",
    }
    assert "flow_heun" not in by_model["tiny-flux"] and "flow_euler" in by_model["tiny-flux"]


@pytest.mark.parametrize(("name", "scheduler"), CASES)
def test_final_images_equal_the_plain_family_pipeline(family_cache: Path, name: str, scheduler: str) -> None:
    engine = engine_for(name, family_cache)
    outcome, sink = run_spec(
        engine,
        schedulers=[{"name": scheduler}],
        seed=3,
        num_images=2,
        steps=3,
        guidance_scale=5.0,
        capture={"every": 3},
    )
    (result,) = outcome.results
    pipe = engine.model.pipe
    entry = entry_by_id(result.id)
    pipe.scheduler = entry.scheduler_class.from_config(result.effective_config)
    plain = pipe(
        "a red circle on a black background",
        num_inference_steps=3,
        guidance_scale=5.0,
        num_images_per_prompt=2,
        generator=[torch.Generator().manual_seed(3 + i) for i in range(2)],
        output_type="pil",
        height=64,  # Flux's pipeline would default to 1024; the tiny models are drawn at 64
        width=64,
        **entry.call_config,
    ).images
    assert len(result.final_images) == 2
    for key, image in zip(result.final_images, plain, strict=True):
        assert np.array_equal(pixels(sink.files[key]), np.asarray(image)), key


@pytest.mark.parametrize(
    ("name", "scheduler"), [("tiny-sdxl", "heun"), ("tiny-sd2-v", "dpm2"), ("tiny-sd3", "flow_heun")]
)
def test_order2_frames_land_on_completed_steps(family_cache: Path, name: str, scheduler: str) -> None:
    outcome, sink = run_spec(
        engine_for(name, family_cache), schedulers=[{"name": scheduler}], steps=3, capture={"every": 1}
    )
    (result,) = outcome.results
    assert result.timings.unet_calls == 2 * 3 - 1
    assert sorted({frame.step for frame in result.frames}) == [1, 2, 3]
    assert all(pixels(sink.files[frame.key]).shape == (64, 64, 3) for frame in result.frames)


@pytest.mark.parametrize(
    ("name", "schedulers"),
    [
        ("tiny-sdxl", ["euler_a", "dpmpp_2m_sde"]),
        ("tiny-sd2-v", ["ddpm", "ddim_zero_snr"]),
        ("tiny-flux", ["flow_euler"]),
    ],
)
def test_reruns_are_bit_identical(family_cache: Path, name: str, schedulers: list[str]) -> None:
    fields = {
        "schedulers": [{"name": s} for s in schedulers],
        "capture": {"every": 1},
        "steps": 3,
        "frames": "denoised",
    }
    engine = engine_for(name, family_cache)
    _, first = run_spec(engine, **fields)
    _, second = run_spec(engine, **fields)
    images = sorted(key for key in first.files if key.endswith(".png"))
    assert images == sorted(key for key in second.files if key.endswith(".png"))
    assert all(first.files[key] == second.files[key] for key in images)


def test_flux_packed_latents_are_unpacked_for_frames_and_previews(family_cache: Path) -> None:
    engine = engine_for("tiny-flux", family_cache)
    outcome, sink = run_spec(
        engine, schedulers=[{"name": "flow_euler"}], steps=2, capture={"every": 1}, decoder="approx"
    )
    frames = outcome.results[0].frames
    assert frames and all(pixels(sink.files[frame.key]).shape == (64, 64, 3) for frame in frames)
    manifest = json.loads(sink.files[outcome.keys.manifest])
    assert manifest["model"]["family"] == "flux" and manifest["model"]["latent_channels"] == 16
    assert np.array(manifest["approx_projection"]["matrix"]).shape == (16, 3)
    assert manifest["model"]["approx_decoder"]["heldout_rmse"] is not None


def test_16_channel_projection_predicts_held_out_decodes_better_than_a_constant(family_cache: Path) -> None:
    from worker.model import _projection_samples, drawn_latents

    model = engine_for("tiny-flux", family_cache).model
    x, y = _projection_samples(model.pipe, model.family, drawn_latents(model.pipe, model.family, 16, 7, 8))
    matrix = torch.tensor([*model.approx.matrix, model.approx.bias], dtype=torch.float64)
    fitted = float((x @ matrix - y).pow(2).mean().sqrt())
    constant = float((y - y.mean(dim=0)).pow(2).mean().sqrt())
    assert model.approx.source == "fit" and len(model.approx.matrix) == 16
    assert fitted < constant, (fitted, constant)


def _synthetic(shape: tuple[int, ...] = (1, 4, 8, 8)) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return torch.randn(shape, generator=generator), torch.randn(shape, generator=generator)


@pytest.mark.parametrize("scheduler", ["flow_euler", "flow_heun", "flow_dpmpp_2m", "flow_unipc"])
def test_flow_x0_is_x_t_minus_sigma_v(scheduler: str) -> None:
    """With x_t = (1 − σ)·x0 + σ·ε and the true velocity v = ε − x0, the tracker must recover x0 at every step."""
    entry = entry_by_id(scheduler)
    instance = entry.scheduler_class.from_config(
        {**SD3_SCHEDULER_CONFIG, **entry.preset, **({"flow_shift": 3.0} if entry.preset.get("use_flow_sigmas") else {})}
    )
    instance.set_timesteps(4)
    tracker = X0Tracker(instance)
    x0, noise = _synthetic()
    for timestep in instance.timesteps[:-1]:
        sigma = instance.sigmas[instance.step_index or 0] if instance.step_index is not None else instance.sigmas[0]
        if hasattr(instance, "state_in_first_order") and not instance.state_in_first_order:
            sigma = instance.sigmas[instance.step_index]
        sample = (1 - sigma) * x0 + sigma * noise
        instance.step(noise - x0, timestep, sample)
        torch.testing.assert_close(tracker.latest, x0, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("scheduler", ["dpmpp_2m", "pndm", "deis", "unipc"])
def test_v_prediction_x0_from_model_output(scheduler: str) -> None:
    """With x_t = α·x0 + σ·ε and the true v = α·ε − σ·x0, schedulers that return no x0 still give x0 back."""
    entry = entry_by_id(scheduler)
    instance = entry.scheduler_class.from_config({**SD2_V_SCHEDULER_CONFIG, **entry.preset})
    instance.set_timesteps(4)
    tracker = X0Tracker(instance)
    x0, noise = _synthetic()
    for timestep in instance.timesteps[:3]:
        alpha_prod = instance.alphas_cumprod[int(timestep)]
        alpha, sigma = alpha_prod**0.5, (1 - alpha_prod) ** 0.5
        sample = alpha * x0 + sigma * noise
        instance.step(alpha * noise - sigma * x0, timestep, sample)
        torch.testing.assert_close(tracker.latest, x0, rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------------------------------------------------------
# What a model cannot run: refused before any model work


@pytest.mark.parametrize(
    ("name", "scheduler", "reason"),
    [
        ("tiny-flux", "flow_heun", "FluxPipeline passes sigmas and mu"),
        ("tiny-sd3", "euler", "not a flow-matching scheduler"),
        ("tiny-flux", "dpmpp_2m_karras", "not a flow-matching scheduler"),
        ("tiny-sdxl", "flow_euler", "is a flow-matching scheduler"),
        ("tiny-sdxl", "ddim_zero_snr", "needs a v-prediction model"),
        ("tiny-sd2-v", "edm_euler", "EDM sigmas"),
    ],
)
def test_incompatible_pairs_name_scheduler_model_and_reason(name: str, scheduler: str, reason: str) -> None:
    catalog = _catalog(name).model_copy(update={"model": _info(name)})
    spec = ComparisonSpec(prompt="x", steps=5, schedulers=[{"name": scheduler}], model=name)
    with pytest.raises(SpecError) as error:
        check_spec(spec, Limits(), catalog)
    assert error.value.field == "schedulers[0].name"
    assert scheduler in error.value.message and name in error.value.message and reason in error.value.message


def test_karras_sigma_ddim_is_refused_naming_the_model() -> None:
    catalog = _catalog("tiny-sdxl").model_copy(update={"model": _info("tiny-sdxl")})
    spec = ComparisonSpec(prompt="x", schedulers=[{"name": "ddim", "config": {"use_karras_sigmas": True}}])
    with pytest.raises(SpecError) as error:
        check_spec(spec, Limits(), catalog)
    assert error.value.field == "schedulers[0].config.use_karras_sigmas"
    assert "DDIMScheduler" in error.value.message and "tiny-sdxl" in error.value.message


def test_engine_refuses_a_flow_scheduler_on_an_sd_model_before_any_model_work(family_cache: Path) -> None:
    engine = engine_for("tiny-sdxl", family_cache)
    calls = []
    handle = engine.model.pipe.unet.register_forward_hook(lambda *args: calls.append(1))
    try:
        with pytest.raises(SpecError, match="flow_euler"):
            run_spec(engine, schedulers=[{"name": "euler"}, {"name": "flow_euler"}])
    finally:
        handle.remove()
    assert calls == []


def test_flux_refuses_a_negative_prompt_and_sizes_off_its_patch_grid() -> None:
    catalog = _catalog("tiny-flux").model_copy(update={"model": _info("tiny-flux")})
    with pytest.raises(SpecError) as error:
        check_spec(
            ComparisonSpec(prompt="x", negative_prompt="y", schedulers=[{"name": "flow_euler"}]), Limits(), catalog
        )
    assert error.value.field == "negative_prompt"
    with pytest.raises(SpecError) as error:
        check_spec(ComparisonSpec(prompt="x", height=72, schedulers=[{"name": "flow_euler"}]), Limits(), catalog)
    assert error.value.field == "height" and "16" in error.value.message


def test_family_is_read_from_model_index_and_unknown_pipelines_are_refused() -> None:
    assert family_of({"_class_name": "StableDiffusionXLPipeline"}).name == "sdxl"
    assert family_of({"_class_name": "FluxPipeline"}).flow_matching
    with pytest.raises(UnsupportedModelError, match="KandinskyPipeline"):
        family_of({"_class_name": "KandinskyPipeline"})


def test_dtype_per_family_on_cuda_and_float32_on_cpu() -> None:
    from worker.model import resolve_dtype

    cuda, cpu = torch.device("cuda:0"), torch.device("cpu")
    assert resolve_dtype("auto", cuda, family_of({"_class_name": "StableDiffusionXLPipeline"})) == torch.float16
    assert resolve_dtype("auto", cuda, family_of({"_class_name": "StableDiffusion3Pipeline"})) == torch.bfloat16
    assert resolve_dtype("auto", cuda, family_of({"_class_name": "FluxPipeline"})) == torch.bfloat16
    assert resolve_dtype("auto", cpu, family_of({"_class_name": "FluxPipeline"})) == torch.float32


def _info(name: str):  # type: ignore[no-untyped-def]
    from service.contract import ModelInfo

    family_name, config = FAMILY_MODELS[name]
    multiple = 16 if family_name in ("sd3", "flux") else 8
    return ModelInfo(
        name=name,
        id=f"schedlab/{name}",
        family=family_name,
        pipeline=PIPELINES[family_name],
        prediction_type="flow" if family_name in ("sd3", "flux") else str(config["prediction_type"]),
        default_size=64,
        size_multiple=multiple,
        takes_negative_prompt=family_name != "flux",
    )


def test_loaded_models_describe_themselves_as_the_tests_assume(family_cache: Path) -> None:
    for name in ("tiny-sd2-v", "tiny-flux"):
        model: LoadedModel = engine_for(name, family_cache).model
        assert model.public_info() == _info(name)


def test_flow_shift_knob_reaches_the_scheduler_and_changes_the_images(family_cache: Path) -> None:
    engine = engine_for("tiny-sd3", family_cache)
    default, default_files = run_spec(engine, schedulers=[{"name": "flow_euler"}], steps=3, capture={"every": 3})
    shifted, shifted_files = run_spec(
        engine, schedulers=[{"name": "flow_euler", "config": {"shift": 1.0}}], steps=3, capture={"every": 3}
    )
    assert default.results[0].effective_config["shift"] == 3.0  # the model's own
    assert shifted.results[0].effective_config["shift"] == 1.0
    key = default.results[0].final_images[0]
    assert default_files.files[key] != shifted_files.files[key]


def test_flow_solvers_take_the_models_shift_as_flow_shift(family_cache: Path) -> None:
    engine = engine_for("tiny-sd3", family_cache)
    outcome, _ = run_spec(
        engine, schedulers=[{"name": "flow_dpmpp_2m"}, {"name": "flow_unipc"}], steps=3, capture={"every": 3}
    )
    assert all(result.effective_config["flow_shift"] == 3.0 for result in outcome.results)
    assert all(result.effective_config["use_flow_sigmas"] for result in outcome.results)


def test_vae_tiling_setting_enables_tiled_decoding(family_cache: Path) -> None:
    model = load_model(
        Settings(model="tiny-sdxl", model_cache_dir=family_cache, device="cpu", torch_threads=1, vae_tiling=True)
    )
    assert model.pipe.vae.use_tiling
    assert not engine_for("tiny-sdxl", family_cache).model.pipe.vae.use_tiling
