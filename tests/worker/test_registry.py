"""The registry: every diffusers scheduler for SD, names users know, and each quirk handled once."""

from __future__ import annotations

import io
import json
from importlib import resources

import numpy as np
import pytest
import torch
from diffusers import StableDiffusionPipeline, UniPCMultistepScheduler
from PIL import Image

from service.contract import SchedulerChoice, load_catalog, normalize_name
from service.errors import SpecError
from tests.support import run_spec
from tests.worker.plain_diffusers import PROMPT, plain_run, user_images
from worker.engine import ComparisonEngine
from worker.model import LoadedModel
from worker.registry import ENTRIES, SCHEDULER_CLASSES, build_scheduler, catalog, entry_by_id
from worker.scheduler_run import SamplingDiverged


def test_catalog_file_is_in_step_with_the_registry() -> None:
    committed = json.loads(resources.files("service").joinpath("scheduler_catalog.json").read_text())
    assert committed == json.loads(catalog().model_dump_json()), "run `schedlab catalog` and commit the result"


def test_registry_covers_every_compatible_scheduler_of_sd(tiny_model: LoadedModel) -> None:
    compatible = {cls.__name__ for cls in tiny_model.pipe.scheduler.compatibles}
    flow_classes = {name for name in SCHEDULER_CLASSES if name.startswith("FlowMatch")}
    assert compatible == set(SCHEDULER_CLASSES) - flow_classes
    assert {entry.class_name for entry in ENTRIES} == compatible | flow_classes


def test_edm_euler_is_unavailable_with_its_reason() -> None:
    entry = load_catalog().entries[[e.id for e in load_catalog().entries].index("edm_euler")]
    assert not entry.available
    assert "sigma" in (entry.unavailable_reason or "")


def test_no_two_entries_answer_to_the_same_name() -> None:
    seen: dict[str, str] = {}
    for entry in load_catalog().entries:
        for name in entry.names():
            assert seen.setdefault(normalize_name(name), entry.id) == entry.id, name


@pytest.mark.parametrize(
    ("name", "entry_id", "config"),
    [
        ("DPM++ 2M Karras", "dpmpp_2m_karras", {"use_karras_sigmas": True}),
        ("DPM++ 2M SDE", "dpmpp_2m_sde", {"algorithm_type": "sde-dpmsolver++"}),
        ("Euler a", "euler_a", {}),
        ("LMS Karras", "lms_karras", {"use_karras_sigmas": True}),
        ("EulerDiscreteScheduler", "euler", {}),
        ("euler_a", "euler_a", {}),
        ("DPM2 a", "dpm2_a", {}),
        ("ddim sd explicit", "ddim_sd_explicit", {"clip_sample": False, "set_alpha_to_one": False}),
    ],
)
def test_names_users_know_resolve_to_entries_with_their_configs(name: str, entry_id: str, config: dict) -> None:
    entry = load_catalog().resolve(name)
    assert entry.id == entry_id
    assert config.items() <= entry.preset_config.items()


@pytest.mark.parametrize("entry_id", ["ddim", "ddpm"])
def test_ddim_ddpm_unsafe_clip_sample_default_is_forced_off(entry_id: str) -> None:
    entry = entry_by_id(entry_id)
    built = build_scheduler(entry, {}, SchedulerChoice(name=entry_id), seed=0, field="s")
    assert built.effective_config["clip_sample"] is False
    asked = build_scheduler(entry, {}, SchedulerChoice(name=entry_id, config={"clip_sample": True}), 0, "s")
    assert asked.effective_config["clip_sample"] is True  # only when the user asks explicitly


def test_ddim_presets_reproduce_the_original_experiments_two_ddims(tiny_model: LoadedModel) -> None:
    config = tiny_model.scheduler_config
    explicit = build_scheduler(entry_by_id("ddim_sd_explicit"), config, SchedulerChoice(name="x"), 0, "s")
    assert {k: explicit.effective_config[k] for k in ("beta_start", "beta_end", "beta_schedule")} == {
        "beta_start": 0.00085,
        "beta_end": 0.012,
        "beta_schedule": "scaled_linear",
    }
    defaults = build_scheduler(entry_by_id("ddim_class_defaults"), config, SchedulerChoice(name="x"), 0, "s")
    assert defaults.effective_config["clip_sample"] is True


def test_each_run_gets_a_fresh_scheduler_instance(tiny_model: LoadedModel) -> None:
    entry = entry_by_id("dpmpp_2m")
    first = build_scheduler(entry, tiny_model.scheduler_config, SchedulerChoice(name="x"), 0, "s")
    second = build_scheduler(entry, tiny_model.scheduler_config, SchedulerChoice(name="x"), 0, "s")
    assert first.scheduler is not second.scheduler


def test_stochastic_flag_and_order_per_entry() -> None:
    by_id = {entry.id: entry for entry in load_catalog().entries}
    assert by_id["euler_a"].stochastic and by_id["dpmpp_sde"].stochastic and by_id["dpmpp_2m_sde"].stochastic
    assert not by_id["euler"].stochastic and not by_id["dpmpp_2m"].stochastic
    assert by_id["heun"].order == by_id["dpm2"].order == by_id["dpmpp_sde"].order == 2
    assert by_id["euler"].order == 1


def test_the_tiny_model_loads_through_from_pretrained_with_sd15_scheduler_config(
    tiny_model: LoadedModel,
) -> None:
    assert isinstance(tiny_model.pipe, StableDiffusionPipeline)
    config = tiny_model.scheduler_config
    # The load-time config (the engine swaps `pipe.scheduler` per run): SD 1.5's own PNDM config.
    assert config["_class_name"] == "PNDMScheduler"
    assert config["skip_prk_steps"] is True and config["steps_offset"] == 1
    assert config["beta_schedule"] == "scaled_linear" and config["clip_sample"] is False


def test_the_catalogs_unet_call_counts_are_what_the_engine_runs(engine: ComparisonEngine) -> None:
    """The API caps and prices jobs by `CatalogEntry.unet_calls`; the registry's rule must match real runs."""
    entries = engine.catalog.available()
    outcome, _ = run_spec(
        engine, schedulers=[{"name": entry.id} for entry in entries], steps=3, num_images=1, capture={"every": 3}
    )
    measured = {result.id: result.timings.unet_calls for result in outcome.results}
    assert measured == {entry.id: entry.unet_calls(3) for entry in entries}
    assert {measured["pndm"], measured["heun"], measured["euler"]} == {4, 5, 3}


def test_unipc_bh1_returns_nan_at_sigma_zero_so_it_stops_at_sigma_min(
    engine: ComparisonEngine, plain_pipe: StableDiffusionPipeline
) -> None:
    """ComfyUI's `uni_pc` is UniPC bh1; diffusers' bh1 multiplies by B(h) = h, infinite on the step to sigma 0."""
    run = {"steps": 5, "seed": 3, "num_images": 2, "guidance_scale": 6.0}
    plain = UniPCMultistepScheduler.from_config(plain_pipe.scheduler.config, solver_type="bh1")
    assert plain.config.final_sigmas_type == "zero"
    assert torch.isnan(plain_run(plain_pipe, plain, **run).final_latents).any()  # the quirk, in plain diffusers

    outcome, sink = run_spec(engine, schedulers=[{"name": "uni_pc"}], **{**run, "prompt": PROMPT})
    [result] = outcome.results
    assert result.effective_config["solver_type"] == "bh1"
    assert result.effective_config["final_sigmas_type"] == "sigma_min"
    comfyui = {"solver_type": "bh1", "solver_order": 3, "timestep_spacing": "linspace"}
    stopped = UniPCMultistepScheduler.from_config(plain_pipe.scheduler.config, **comfyui, final_sigmas_type="sigma_min")
    want = user_images(plain_pipe, stopped, **run)
    got = [np.asarray(Image.open(io.BytesIO(sink.files[key])).convert("RGB")) for key in result.final_images]
    assert all(np.array_equal(a, np.asarray(b)) for a, b in zip(got, want, strict=True))


def test_a_scheduler_that_ends_on_nan_fails_the_job_naming_it(engine: ComparisonEngine) -> None:
    """Asked explicitly to step bh1 to sigma 0, UniPC diverges: the job fails, it stores no black images."""
    diverging = {"name": "uni_pc", "config": {"final_sigmas_type": "zero"}}
    with pytest.raises(SamplingDiverged, match=r"uni_pc \(UniPCMultistepScheduler\) ended on non-finite latents"):
        run_spec(engine, schedulers=[{"name": "euler"}, diverging], steps=4)


def test_unipc_on_sd15s_leading_config_starts_below_t_999_so_the_entry_starts_where_a1111_and_comfyui_do(
    plain_pipe: StableDiffusionPipeline,
) -> None:
    """SD 1.5's config ("leading", N+1 points) starts diffusers' UniPC at t 831 for 5 steps: pure noise treated as
    a less noisy sample. A1111 and ComfyUI start it at t 999 (the top of the schedule)."""
    plain = UniPCMultistepScheduler.from_config(plain_pipe.scheduler.config)
    plain.set_timesteps(5)
    assert int(plain.timesteps[0]) == 831  # the quirk, in plain diffusers
    for name in ("unipc", "UniPC", "uni_pc", "uni_pc_bh2"):
        choice = load_catalog().resolve_choice(SchedulerChoice(name=name), field="s").choice
        built = build_scheduler(entry_by_id("unipc"), dict(plain_pipe.scheduler.config), choice, 0, "s")
        built.scheduler.set_timesteps(5)
        assert int(built.scheduler.timesteps[0]) == 999, name


def test_a_config_the_scheduler_class_cannot_build_is_a_spec_error_naming_the_field(
    plain_pipe: StableDiffusionPipeline,
) -> None:
    # A negative beta_start passes the catalog's type check (a number) and fails inside torch (a RuntimeError from
    # torch.linspace), not in diffusers' own checks: the job must still fail naming the field and the class.
    choice = SchedulerChoice(name="euler", config={"beta_start": -1.0})
    with pytest.raises(SpecError) as error:
        build_scheduler(entry_by_id("euler"), dict(plain_pipe.scheduler.config), choice, 0, "schedulers[0]")
    assert error.value.field == "schedulers[0].config" and "EulerDiscreteScheduler rejects" in error.value.message
