"""The contract the API and the worker share: the comparison spec, its limits, the job lifecycle and storage keys.

Torch-free by design: the API validates requests with exactly the rules the worker runs by, without importing
torch or diffusers. What the API must know about schedulers comes from `scheduler_catalog.json`, which the
worker's registry generates (`schedlab catalog`) and a test keeps in step with the live registry.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue, Strict, field_validator, model_validator
from pydantic_core import PydanticCustomError

from service.errors import SpecError, UnknownSchedulerError

MAX_SEED = 2**63 - 1 - 16  # seed + image index must still fit torch.Generator.manual_seed


def _not_a_flag(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    return value


# JSON numbers only: no "30" strings, no true/false, no 30.0 where a count is meant (pydantic's lax mode allows them).
Integer = Annotated[int, Strict()]
Number = Annotated[float, BeforeValidator(_not_a_flag)]


class FrameKind(StrEnum):
    """What a captured frame shows."""

    latent = "latent"  # the current noisy sample x_t, as the original experiment captured it
    denoised = "denoised"  # the scheduler's prediction of the clean sample x0 at that step


class Decoder(StrEnum):
    """How frames become pixels."""

    vae = "vae"  # the model's VAE: exact, costs a decoder pass per frame
    approx = "approx"  # a linear latent-to-RGB projection at 1/8 resolution: nearly free


class Execution(StrEnum):
    """How a comparison's schedulers share the model."""

    batched = "batched"  # in lock-step: one UNet batch per tick for all schedulers (faster; equal within rounding)
    sequential = "sequential"  # one pipeline call per scheduler (the bit-exact reference against plain diffusers)


class JobStatus(StrEnum):
    """A comparison job's lifecycle: queued → running → succeeded | failed | canceled."""

    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    canceled = "canceled"

    @property
    def is_terminal(self) -> bool:
        return self in (JobStatus.succeeded, JobStatus.failed, JobStatus.canceled)


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SchedulerChoice(StrictModel):
    """One scheduler to run: any registry id, class name, alias or preset, plus config overrides."""

    name: str = Field(min_length=1, max_length=100, examples=["euler", "DPM++ 2M Karras"])
    config: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="Scheduler config overrides; see GET /v1/schedulers for allowed keys.",
    )


def default_capture_every(steps: int) -> int:
    """The capture default for API and CLI alike: at most six frames plus the final step, whatever `steps` is."""
    return max(1, math.ceil(steps / 6))


class Capture(StrictModel):
    """Which scheduler steps to capture frames at: every N steps, or a list. The final step always is."""

    every: Integer | None = Field(None, ge=1, le=1000)
    steps: list[Annotated[Integer, Field(ge=1, le=1000)]] | None = Field(None, min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.every is None) == (self.steps is None):
            raise ValueError("give exactly one of `every` or `steps`")
        return self


class WebhookEvent(StrEnum):
    started = "started"  # the job began running
    scheduler_done = "scheduler_done"  # one scheduler's results are stored
    completed = "completed"  # the job ended: succeeded, failed or canceled


class Webhook(StrictModel):
    """Where to POST job events. Deliveries are signed (see README) and retried with backoff."""

    url: str = Field(min_length=8, max_length=2000, examples=["https://example.com/hooks/schedlab"])
    events: list[WebhookEvent] = Field(default_factory=lambda: list(WebhookEvent), min_length=1)


class Reference(StrictModel):
    """The solution every sweep cell is measured against: one deterministic run per seed and guidance scale."""

    scheduler: str = Field(
        "dpmpp_2m",
        min_length=1,
        max_length=100,
        description="A deterministic scheduler; default DPM-Solver++ 2M, a high-order solver.",
    )
    steps: Integer = Field(100, ge=1, le=1000)
    tolerance: Number = Field(
        0.05,
        gt=0,
        le=1,
        description="A cell is 'within the reference's neighbourhood' when its final images' median pixel RMSE "
        "(pixels in [0, 1]) to the reference's, averaged over seeds, is at most this.",
    )


# A sweep axis: one value (as a single-value job) or a list of distinct values (a sweep). Bounds are checked by
# `_check_axis` so that every error names the field itself, whichever form was sent.
AXIS_BOUNDS: dict[str, tuple[float, float]] = {"steps": (1, 1000), "guidance_scale": (0.0, 50.0), "seed": (0, MAX_SEED)}
MAX_AXIS_VALUES = 64


def _check_axis(field: str, value: Any) -> Any:
    values = value if isinstance(value, list) else [value]
    low, high = AXIS_BOUNDS[field]
    if isinstance(value, list):
        if not values:
            raise _axis_error("is an empty list: give one value or a list of distinct values")
        if len(values) > MAX_AXIS_VALUES:
            raise _axis_error(f"has {len(values)} values; the limit is {MAX_AXIS_VALUES}")
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            shown = ", ".join(format_axis_value(v) for v in repeated)
            raise _axis_error(f"repeats {shown}: give each value once")
    for index, item in enumerate(values):
        if not low <= item <= high:
            where = f"item {index} " if isinstance(value, list) else ""
            bounds = f"{format_axis_value(low)} and {format_axis_value(high)}"
            raise _axis_error(f"{where}must be between {bounds}, got {format_axis_value(item)}")
    return value


def _axis_error(message: str) -> PydanticCustomError:
    return PydanticCustomError("sweep_axis", message)


def format_axis_value(value: float) -> str:
    """How an axis value reads in folder names and labels: 7.5, 4 (not 4.0), 0.30000000000000004 stays exact."""
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


@dataclass(frozen=True)
class Cell:
    """One (steps, guidance, seed) combination of a sweep: exactly the semantics of a single-value job."""

    index: int
    steps: int
    guidance_scale: float
    seed: int
    sweep: bool  # False: the job's only cell, stored in today's layout (no cell folder)

    @property
    def folder(self) -> str:
        """The cell's folder under the job's root: its values, readable; "" for a single-value job."""
        if not self.sweep:
            return ""
        return f"steps-{self.steps}_cfg-{format_axis_value(self.guidance_scale)}_seed-{self.seed}/"

    @property
    def label(self) -> CellLabel:
        return CellLabel(steps=self.steps, guidance_scale=self.guidance_scale, seed=self.seed, folder=self.folder)


class CellLabel(BaseModel):
    """Which sweep cell a result belongs to."""

    steps: int
    guidance_scale: float
    seed: int
    folder: str = Field(description="The cell's folder under the job's folder ('' for single-value jobs).")


class ComparisonSpec(StrictModel):
    """One prompt, many schedulers; `steps`, `guidance_scale` and `seed` are one value or a list (a sweep).

    A sweep runs every scheduler on every (steps, guidance_scale, seed) cell. Image i of a cell uses seed
    `seed + i` for every scheduler.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "prompt": "a lighthouse on a cliff at dusk",
                    "seed": 42,
                    "num_images": 2,
                    "steps": 20,
                    "schedulers": [{"name": "euler"}, {"name": "DPM++ 2M Karras"}, {"name": "heun"}],
                    "capture": {"every": 5},
                }
            ]
        },
    )

    model: str | None = Field(
        None,
        min_length=1,
        max_length=500,
        description="Which served model runs the job (see GET /v1/models); default: the deployment's default model.",
    )
    prompt: str = Field(min_length=1, max_length=10_000)
    negative_prompt: str | None = Field(None, max_length=10_000)
    seed: Integer | list[Integer] = Field(
        0, description=f"0 to {MAX_SEED}, or a list of distinct seeds (a sweep axis)."
    )
    num_images: Integer = Field(4, ge=1, le=16)
    steps: Integer | list[Integer] = Field(
        30, description="1 to 1000 scheduler steps, or a list of distinct step counts (a sweep axis)."
    )
    guidance_scale: Number | list[Number] = Field(
        7.5, description="0 to 50, or a list of distinct guidance scales (a sweep axis)."
    )
    height: Integer | None = Field(None, ge=8, description="Pixels, a multiple of 8; default: the model's own size.")
    width: Integer | None = Field(None, ge=8, description="Pixels, a multiple of 8; default: the model's own size.")
    schedulers: list[SchedulerChoice] = Field(min_length=1, max_length=64)
    capture: Capture | None = Field(
        None,
        description="Default: every ceil(steps / 6) steps (about six frames), so it fits any `steps`. "
        "The final step is always captured.",
    )
    frames: FrameKind = FrameKind.latent
    decoder: Decoder = Decoder.vae
    reference: Reference | None = Field(
        None,
        description="What sweep cells are measured against; sweeps default to DPM++ 2M at 100 steps. "
        "A single-value job runs one only when asked.",
    )
    execution: Execution = Field(
        Execution.batched,
        description="batched: every scheduler (of every sweep cell, whatever its steps and guidance) in one UNet "
        "batch per step (faster; equal to sequential within rounding); sequential: one pipeline call per scheduler "
        "and cell, bit-identical to plain diffusers.",
    )
    webhook: Webhook | None = Field(None, description="Job events are POSTed here, signed; not part of the manifest.")

    @field_validator("steps", "guidance_scale", "seed")
    @classmethod
    def _axis(cls, value: Any, info: Any) -> Any:
        return _check_axis(info.field_name, value)

    # -- sweep axes: the one place that expands cells ------------------------------------------------------
    @property
    def is_sweep(self) -> bool:
        return any(isinstance(v, list) for v in (self.steps, self.guidance_scale, self.seed))

    @property
    def steps_values(self) -> list[int]:
        return list(self.steps) if isinstance(self.steps, list) else [self.steps]

    @property
    def guidance_values(self) -> list[float]:
        values = self.guidance_scale if isinstance(self.guidance_scale, list) else [self.guidance_scale]
        return [float(v) for v in values]

    @property
    def seed_values(self) -> list[int]:
        return list(self.seed) if isinstance(self.seed, list) else [self.seed]

    def cells(self) -> list[Cell]:
        """Every (steps, guidance, seed) combination, grouped by guidance then seed, steps ascending within."""
        combos = [
            (steps, guidance, seed)
            for guidance in self.guidance_values
            for seed in self.seed_values
            for steps in sorted(self.steps_values)
        ]
        return [Cell(i, steps, guidance, seed, self.is_sweep) for i, (steps, guidance, seed) in enumerate(combos)]

    def resolved_reference(self) -> Reference | None:
        """The reference to run: the one asked for, the default for a sweep, none for a plain job."""
        if self.reference is not None:
            return self.reference
        return Reference() if self.is_sweep else None

    def capture_steps(self, steps: int | None = None) -> list[int]:
        """The sorted scheduler steps to capture in a run of `steps` steps (default: the job's), the final included.

        Without `capture`, each run of a sweep gets the default for its own step count.
        """
        if steps is None:
            steps = max(self.steps_values)
        capture = self.capture or Capture(every=default_capture_every(steps))
        if capture.steps is not None:
            wanted = {step for step in capture.steps if step <= steps}
        else:
            assert capture.every is not None
            wanted = set(range(capture.every, steps + 1, capture.every))
        return sorted(wanted | {steps})


# Every optional field's default, one source for all clients: the CLI's options read theirs from here.
SPEC_DEFAULTS: dict[str, Any] = {
    name: field.default for name, field in ComparisonSpec.model_fields.items() if not field.is_required()
}


# ---------------------------------------------------------------------------------------------------------------
# Limits


class Limits(BaseModel):
    """Deployment caps, tighter than the spec's own bounds. Set from `Settings`."""

    max_steps: int = 1000
    max_images: int = 16
    max_schedulers: int = 32
    max_resolution: int = 1024
    max_prompt_chars: int = 2000
    max_unet_evals: int = 200_000
    max_cells: int = 256
    grid_max_pixels: int = 16_000_000

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        return cls(**{name: getattr(settings, name) for name in cls.model_fields})


def check_spec(spec: ComparisonSpec, limits: Limits, catalog: Catalog | None = None) -> None:
    """Every rule a spec must pass before any model work; raises `SpecError` naming the field and the limit."""
    catalog = catalog or load_catalog()
    if not spec.prompt.strip():
        raise SpecError("prompt", "must not be empty")
    for field, text in (("prompt", spec.prompt), ("negative_prompt", spec.negative_prompt or "")):
        if len(text) > limits.max_prompt_chars:
            raise SpecError(field, f"is {len(text)} characters; the limit is {limits.max_prompt_chars}")
    for index, steps in enumerate(spec.steps_values):
        _check_range(f"steps[{index}]" if isinstance(spec.steps, list) else "steps", steps, 1, limits.max_steps)
    _check_range("num_images", spec.num_images, 1, limits.max_images)
    _check_range("schedulers", len(spec.schedulers), 1, limits.max_schedulers, what="entries")
    for field, pixels in (("height", spec.height), ("width", spec.width)):
        if pixels is None:
            continue
        if pixels % 8:
            raise SpecError(field, f"must be a multiple of 8, got {pixels}")
        _check_range(field, pixels, 8, limits.max_resolution)
    most_steps = max(spec.steps_values)
    if spec.capture is None:
        pass  # the default fits any `steps`
    elif spec.capture.steps is not None:
        for index, step in enumerate(spec.capture.steps):
            _check_range(f"capture.steps[{index}]", step, 1, most_steps, limit_name="steps")
    elif spec.capture.every is not None and spec.capture.every > most_steps:
        raise SpecError("capture.every", f"must be between 1 and steps ({most_steps}), got {spec.capture.every}")
    if catalog.model is not None:
        catalog.model.check_spec(spec)
    for index, choice in enumerate(spec.schedulers):
        catalog.resolve_choice(choice, field=f"schedulers[{index}]")
    reference = spec.resolved_reference()
    if reference is not None:
        _check_range("reference.steps", reference.steps, 1, limits.max_steps)
        entry = catalog.resolve(reference.scheduler, field="reference.scheduler")
        if entry.stochastic:
            raise SpecError("reference.scheduler", f"{entry.id} is stochastic; a reference must be deterministic")
    cost = sweep_cost(spec, catalog)
    axes = "steps x guidance_scale x seed"
    if cost.cells > limits.max_cells:
        raise SpecError(axes, f"the sweep has {cost.cells} cells; the limit is {limits.max_cells}")
    if cost.unet_evaluations > limits.max_unet_evals:
        what = f"{cost.cells} cells x {len(spec.schedulers)} schedulers" + (" and the reference" if reference else "")
        raise SpecError(
            axes if spec.is_sweep else "schedulers",
            f"the job ({what}) needs {cost.unet_evaluations} image x UNet evaluations; "
            f"the limit is {limits.max_unet_evals}",
        )


class SweepCost(BaseModel):
    """What a job will spend, known before it runs."""

    cells: int = Field(description="(steps, guidance_scale, seed) combinations.")
    runs: int = Field(description="cells x schedulers, plus one reference run per (guidance_scale, seed).")
    unet_evaluations: int = Field(description="Image x UNet evaluations of the whole job, the reference's included.")
    reference_evaluations: int = Field(description="The reference runs' share of `unet_evaluations`.")


def sweep_cost(spec: ComparisonSpec, catalog: Catalog | None = None) -> SweepCost:
    """UNet evaluations (per image, one call evaluates both guidance halves) of every run the job will make."""
    catalog = catalog or load_catalog()
    cells = spec.cells()
    entries = [catalog.resolve(choice.name, field=f"schedulers[{i}].name") for i, choice in enumerate(spec.schedulers)]
    evaluations = sum(entry.unet_calls(cell.steps) for cell in cells for entry in entries) * spec.num_images
    reference = spec.resolved_reference()
    groups = len(spec.guidance_values) * len(spec.seed_values)
    reference_evals = 0
    if reference is not None:
        entry = catalog.resolve(reference.scheduler, field="reference.scheduler")
        reference_evals = entry.unet_calls(reference.steps) * spec.num_images * groups
    return SweepCost(
        cells=len(cells),
        runs=len(cells) * len(entries) + (groups if reference else 0),
        unet_evaluations=evaluations + reference_evals,
        reference_evaluations=reference_evals,
    )


def _check_range(field: str, value: int, low: int, high: int, what: str = "", limit_name: str | None = None) -> None:
    if not low <= value <= high:
        unit = f" {what}" if what else ""
        high_text = f"{limit_name} ({high})" if limit_name else str(high)
        raise SpecError(field, f"must be between {low} and {high_text}{unit}, got {value}")


# ---------------------------------------------------------------------------------------------------------------
# The scheduler catalog (generated from the worker's registry)

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "string": (str,),
    "array": (list,),
}


JsonKind = Literal["boolean", "integer", "number", "string", "array", "any"]


class ConfigKey(BaseModel):
    """One overridable scheduler config key, described from the scheduler class's signature."""

    type: JsonKind
    nullable: bool = False
    choices: list[str] | None = None
    default: JsonValue = None


class CatalogEntry(BaseModel):
    """A scheduler or preset as users name it; the torch-free mirror of a worker registry entry."""

    id: str
    display_name: str
    class_name: str
    aliases: list[str]
    preset_config: dict[str, JsonValue]
    stochastic: bool
    order: int
    available: bool
    unavailable_reason: str | None = None
    description: str = ""
    differs_from_a1111: str | None = Field(
        None,
        description="Why this A1111/ComfyUI name does not reproduce k-diffusion's sampler (see the parity report); "
        "null where it matches or has no k-diffusion counterpart.",
    )
    config_keys: dict[str, ConfigKey]
    pipeline_config: dict[str, JsonValue] = Field(
        default_factory=dict, description="Pipeline arguments the preset sets, e.g. guidance_rescale."
    )

    def names(self) -> list[str]:
        return [self.id, self.display_name, *self.aliases]

    def unet_calls(self, steps: int) -> int:
        """UNet calls for `steps` scheduler steps: order-2 schedulers evaluate twice per step but the first."""
        if self.order == 2:
            return 2 * steps - 1
        return steps + 1 if self.class_name == "PNDMScheduler" else steps

    def check_config(self, config: dict[str, JsonValue], field: str, model: ModelInfo | None = None) -> None:
        for key, value in config.items():
            spec = self.config_keys.get(key)
            if spec is None:
                allowed = ", ".join(sorted(self.config_keys))
                where = f" ({self.id} on model {model.name})" if model is not None else ""
                raise SpecError(
                    f"{field}.{key}", f"is not a config key of {self.class_name}{where}; allowed keys: {allowed}"
                )
            if value is None:
                if not spec.nullable:
                    raise SpecError(f"{field}.{key}", f"must not be null (expected {spec.type})")
                continue
            if spec.type != "any":
                expected = _JSON_TYPES[spec.type]
                # bool is an int in Python; a flag is not a number and a number is not a flag.
                if isinstance(value, bool) != (spec.type == "boolean") or not isinstance(value, expected):
                    raise SpecError(f"{field}.{key}", f"must be {spec.type}, got {json.dumps(value)}")
            if spec.choices is not None and value not in spec.choices:
                raise SpecError(f"{field}.{key}", f"must be one of {spec.choices}, got {json.dumps(value)}")


def normalize_name(name: str) -> str:
    return re.sub(r"[\s_\-]+", " ", name.strip().lower())


class ModelInfo(BaseModel):
    """A served model as workers register it: what a spec's `model` names, and the rules its specs must pass."""

    name: str = Field(description="The name specs use in `model` (the workers' SCHEDLAB_MODEL).")
    id: str = Field(description="The model's id in manifests (Hub id or schedlab/tiny-*).")
    family: str = Field(description="sd (1.x/2.x), sdxl, sd3 or flux.")
    pipeline: str
    prediction_type: str = Field(description="epsilon, v_prediction or flow.")
    default_size: int
    size_multiple: int
    takes_negative_prompt: bool = True

    def check_spec(self, spec: ComparisonSpec) -> None:
        for field, pixels in (("height", spec.height), ("width", spec.width)):
            if pixels is not None and pixels % self.size_multiple:
                raise SpecError(
                    field, f"must be a multiple of {self.size_multiple} for model {self.name}, got {pixels}"
                )
        if spec.negative_prompt and not self.takes_negative_prompt:
            raise SpecError("negative_prompt", f"model {self.name} ({self.pipeline}) takes no negative prompt")


# The three sigma-schedule flags diffusers' Karras-family schedulers take; at most one may be on.
EXCLUSIVE_SIGMA_FLAGS = ("use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas")


class ComfyUISampler(BaseModel):
    """A ComfyUI sampler name: the registry entry it runs, plus config that entry needs for it."""

    entry: str
    config: dict[str, JsonValue] = Field(default_factory=dict)


class ScheduleType(BaseModel):
    """A sigma schedule as A1111 ("Schedule type") and ComfyUI ("scheduler") name it, as config overrides."""

    names: list[str] = Field(description="Spellings users type: ComfyUI's name first, then A1111's.")
    config: dict[str, JsonValue] = Field(default_factory=dict, description="Overrides for any scheduler class.")
    config_by_class: dict[str, dict[str, JsonValue]] = Field(
        default_factory=dict, description="Class-specific overrides where a class spells the schedule otherwise."
    )
    unsupported_reason: str | None = Field(None, description="Why diffusers cannot express it as a config.")
    description: str = ""

    def overrides_for(self, class_name: str) -> dict[str, JsonValue]:
        return self.config_by_class.get(class_name, self.config)


@dataclass(frozen=True)
class ResolvedChoice:
    """A scheduler choice resolved: the registry entry, and the choice with any schedule overrides folded in."""

    entry: CatalogEntry
    choice: SchedulerChoice


class Catalog(BaseModel):
    diffusers_version: str
    entries: list[CatalogEntry]
    model: ModelInfo | None = Field(None, description="The model this catalog is for; none: any model.")
    comfyui_samplers: dict[str, ComfyUISampler] = Field(default_factory=dict)
    schedules: dict[str, ScheduleType] = Field(default_factory=dict)

    def resolve(self, name: str, field: str = "name") -> CatalogEntry:
        choice = SchedulerChoice(name=name)
        return self.resolve_choice(choice, field=field.removesuffix(".name"), name_field=field).entry

    def resolve_choice(
        self, choice: SchedulerChoice, field: str = "scheduler", name_field: str | None = None
    ) -> ResolvedChoice:
        """The entry and config a name means: an entry's id, display name, class name or alias; a ComfyUI sampler;
        or either followed by a schedule type ("dpmpp_2m karras", "DPM++ 2M SGM Uniform"). The user's own config
        wins over a schedule's overrides. Raises `SpecError` naming `{field}.name` or `{field}.config`."""
        name_field = name_field or f"{field}.name"  # a bare name (a reference's scheduler) is its own field
        entry, overrides = self._lookup(choice.name, name_field)
        if not entry.available:
            where = f" on model {self.model.name}" if self.model is not None else ""
            raise UnknownSchedulerError(
                name_field, f"{entry.id} ({entry.class_name}) is unavailable{where}: {entry.unavailable_reason}"
            )
        config = {**overrides, **choice.config}
        entry.check_config(config, field=f"{field}.config", model=self.model)
        merged = {**entry.preset_config, **config}
        flags_on = [flag for flag in EXCLUSIVE_SIGMA_FLAGS if merged.get(flag) is True]
        if len(flags_on) > 1:
            raise SpecError(
                f"{field}.config",
                f"{' and '.join(flags_on)} are mutually exclusive (counting the preset, the name's schedule and "
                "the config)",
            )
        return ResolvedChoice(entry, SchedulerChoice(name=choice.name, config=config))

    def _lookup(self, name: str, field: str) -> tuple[CatalogEntry, dict[str, JsonValue]]:
        wanted = normalize_name(name)
        sampler = self._sampler(wanted)
        if sampler is not None:
            return sampler
        words = wanted.split(" ")
        for cut in range(len(words) - 1, 0, -1):
            schedule_name, schedule = self._schedule(" ".join(words[cut:]))
            found = self._sampler(" ".join(words[:cut])) if schedule else None
            if schedule is not None and found is not None:
                return self._with_schedule(*found, schedule_name, schedule, field)
        known = self._known_names()
        close = [known[match] for match in difflib.get_close_matches(wanted, known, n=5, cutoff=0.6)]
        hint = f"; close matches: {', '.join(close)}" if close else ""
        valid = ", ".join(entry.id for entry in self.available())
        for_model = f" for model {self.model.name}" if self.model is not None else ""
        raise UnknownSchedulerError(
            field,
            f"unknown scheduler {name!r}{hint}; valid names{for_model}: {valid} (or 'all'), a ComfyUI sampler name, "
            f"or either followed by a schedule type ({', '.join(self.schedules)})",
        )

    def _sampler(self, wanted: str) -> tuple[CatalogEntry, dict[str, JsonValue]] | None:
        for entry in self.entries:
            if wanted in {normalize_name(n) for n in entry.names()}:
                return entry, {}
        for comfy_name, sampler in self.comfyui_samplers.items():
            if wanted == normalize_name(comfy_name):
                return self._entry(sampler.entry), dict(sampler.config)
        return None

    def _schedule(self, wanted: str) -> tuple[str, ScheduleType | None]:
        for schedule_name, schedule in self.schedules.items():
            if wanted in {normalize_name(n) for n in [schedule_name, *schedule.names]}:
                return schedule_name, schedule
        return wanted, None

    def _with_schedule(
        self,
        entry: CatalogEntry,
        config: dict[str, JsonValue],
        schedule_name: str,
        schedule: ScheduleType,
        field: str,
    ) -> tuple[CatalogEntry, dict[str, JsonValue]]:
        if schedule.unsupported_reason:
            raise UnknownSchedulerError(field, f"the {schedule_name} schedule: {schedule.unsupported_reason}")
        overrides = schedule.overrides_for(entry.class_name)
        missing = [key for key in overrides if key not in entry.config_keys]
        if missing:
            raise UnknownSchedulerError(
                field, f"{entry.display_name} has no {schedule_name} schedule: {entry.class_name} takes no {missing[0]}"
            )
        config = {**config, **overrides}
        # A preset that is exactly this combination (e.g. "DPM++ 2M Karras") answers for it, with its parity notes.
        wanted = {**entry.preset_config, **config}
        for preset in self.entries:
            if preset.class_name == entry.class_name and preset.preset_config == wanted:
                return preset, {}
        return entry, config

    def _entry(self, entry_id: str) -> CatalogEntry:
        return next(entry for entry in self.entries if entry.id == entry_id)

    def _known_names(self) -> dict[str, str]:
        """Every accepted spelling, normalized -> as shown: entry names, ComfyUI samplers and their schedules."""
        names = [n for entry in self.entries for n in entry.names()] + list(self.comfyui_samplers)
        schedules = [name for name, schedule in self.schedules.items() if not schedule.unsupported_reason]
        names += [f"{sampler} {schedule}" for sampler in self.comfyui_samplers for schedule in schedules]
        return {normalize_name(name): name for name in names}

    def accepts(self, name: str) -> bool:
        try:
            self.resolve_choice(SchedulerChoice(name=name))
        except SpecError:
            return False
        return True

    def available(self) -> list[CatalogEntry]:
        return [entry for entry in self.entries if entry.available]

    def expand(self, names: Iterable[str]) -> list[SchedulerChoice]:
        """Scheduler choices for CLI names, where `all` means every available registry entry."""
        choices: list[SchedulerChoice] = []
        for name in names:
            if normalize_name(name) == "all":
                choices += [SchedulerChoice(name=entry.id) for entry in self.available()]
            else:
                choices.append(SchedulerChoice(name=name))
        return choices


CATALOG_FILE = "scheduler_catalog.json"


@cache
def load_catalog() -> Catalog:
    text = resources.files("service").joinpath(CATALOG_FILE).read_text()
    return Catalog.model_validate_json(text)


# ---------------------------------------------------------------------------------------------------------------
# Results and storage keys


class FrameRef(BaseModel):
    step: int
    image_index: int
    key: str


class SchedulerTimings(BaseModel):
    wall_s: float
    unet_calls: int


class SchedulerResult(BaseModel):
    """What one scheduler produced; storage keys only, never image bytes."""

    index: int
    name: str
    id: str
    class_name: str
    key: str = Field(description="Folder of this scheduler's files under the job's folder.")
    status: Literal["succeeded", "canceled"]
    stochastic: bool
    effective_config: dict[str, JsonValue]
    seeds: list[int]
    final_images: list[str]
    frames: list[FrameRef]
    grid: str | None
    timings: SchedulerTimings
    convergence: list[tuple[int, float]] = Field(
        description="(step, relative latent distance of that step's x0 prediction to the final latent)."
    )
    emergence_step: int | None
    quality: dict[str, float] | None = Field(
        None, description="Demo model only: shares of final images whose colour and shape match the prompt."
    )
    cell: CellLabel | None = Field(None, description="The sweep cell this run belongs to; None for a plain job.")
    reference_distance: ReferenceDistance | None = Field(
        None, description="Distance of the final latents and images to the reference's (same seed and guidance)."
    )


class ReferenceDistance(BaseModel):
    """How far a run's final result lies from the reference solution, image i against the reference's image i.

    `latent` and `image` are medians over the cell's images: a seed whose sample flips to another shape or place
    dominates a mean (both are listed per image too).
    """

    latent: float = Field(description="Median of ||final latent - reference latent|| / ||reference latent||.")
    image: float = Field(description="Median pixel RMSE of the final images to the reference's, pixels in [0, 1].")
    image_mean: float = Field(description="Mean pixel RMSE over the images.")
    images: list[float] = Field(description="Pixel RMSE per image.")
    latents: list[float] = Field(description="Relative latent distance per image.")


class CurvePoint(BaseModel):
    steps: int
    nfe: int = Field(description="UNet evaluations per image (one evaluates both guidance halves).")
    latent_distance: float = Field(description="Mean over seeds of each cell's median relative latent distance.")
    image_distance: float = Field(description="Mean over seeds of each cell's median pixel RMSE (pixels in [0, 1]).")
    image_distance_mean: float = Field(description="Mean over seeds and images of the pixel RMSE.")


class ErrorCurve(BaseModel):
    """One scheduler's distance to the reference against UNet evaluations, at one guidance scale."""

    scheduler_index: int
    scheduler: str
    stochastic: bool
    guidance_scale: float
    points: list[CurvePoint]
    cheapest_within_tolerance: CurvePoint | None = Field(
        description="The fewest-evaluation point whose image distance is within the reference's tolerance."
    )


class BudgetRanking(BaseModel):
    """At one guidance scale, schedulers ranked by the best distance they reach within `budget` evaluations."""

    guidance_scale: float
    budget: int = Field(description="UNet evaluations per image.")
    ranking: list[dict[str, JsonValue]] = Field(
        description="Best first: scheduler, scheduler_index, steps, nfe, image_distance, latent_distance."
    )


class GridPage(BaseModel):
    guidance_scale: float
    seed: int
    page: int
    pages: int
    key: str


class SweepAnswer(BaseModel):
    """The quality-per-cost answer of a sweep, stored as `sweep/answer.json` and in the job record."""

    reference: dict[str, JsonValue]
    tolerance: float
    curves: list[ErrorCurve]
    ranking: list[BudgetRanking]
    grids: list[GridPage]
    plot: str | None = Field(description="Storage key of the error-vs-NFE plot (PNG).")
    answer: str = Field(description="Storage key of this document (JSON).")


class JobProgress(BaseModel):
    scheduler_index: int
    scheduler: str
    steps_done: int
    steps_total: int


def progress_plan(spec: ComparisonSpec) -> list[JobProgress]:
    """One progress entry per scheduler (its steps summed over the cells), and one for the reference runs."""
    cells = spec.cells()
    total = sum(cell.steps for cell in cells)
    plan = [
        JobProgress(scheduler_index=i, scheduler=choice.name, steps_done=0, steps_total=total)
        for i, choice in enumerate(spec.schedulers)
    ]
    reference = spec.resolved_reference()
    if reference is not None:
        groups = len(spec.guidance_values) * len(spec.seed_values)
        plan.append(
            JobProgress(
                scheduler_index=len(spec.schedulers),
                scheduler=f"reference: {reference.scheduler}",
                steps_done=0,
                steps_total=reference.steps * groups,
            )
        )
    return plan


class JobEventType(StrEnum):
    """The typed events of a job's event stream (`GET /v1/comparisons/{id}/events`), in the order they occur.

    `queued` comes again when a job is retried after its worker died; exactly one terminal event ends a stream.
    """

    queued = "queued"
    started = "started"
    step = "step"
    scheduler_done = "scheduler_done"
    succeeded = "succeeded"
    failed = "failed"
    canceled = "canceled"

    @property
    def is_terminal(self) -> bool:
        return self in (JobEventType.succeeded, JobEventType.failed, JobEventType.canceled)


class StepRecord(BaseModel):
    """One completed scheduler step as the worker records it (the `step` event's data, with storage keys).

    New optional fields (a sweep cell's label, say) can be added without breaking readers.
    """

    scheduler_index: int
    scheduler: str
    step: int = Field(description="Completed scheduler steps, 1-based.")
    of: int = Field(description="The scheduler's total steps.")
    timestep: float | None = Field(None, description="The model timestep of the step just completed.")
    sigma: float | None = Field(
        None, description="Noise level of the sample after this step, for schedulers that have sigmas."
    )
    frames: list[str] = Field(default_factory=list, description="Frames captured at this step (storage keys).")
    at: float = Field(description="Unix time at which the worker recorded the step.")


@dataclass(frozen=True)
class Keys:
    """Storage keys of one comparison, relative to the storage root. Human-readable on purpose."""

    root: str  # "" for a CLI output folder, "comparisons/{id}/" for a service job

    @classmethod
    def for_job(cls, job_id: str) -> Keys:
        return cls(f"comparisons/{job_id}/")

    @staticmethod
    def scheduler_dir(index: int, entry_id: str) -> str:
        return f"{index + 1:02d}-{entry_id}"

    def final_image(self, scheduler_dir: str, image_index: int) -> str:
        return f"{self.root}{scheduler_dir}/final/image-{image_index}.png"

    def frame(self, scheduler_dir: str, step: int, image_index: int) -> str:
        return f"{self.root}{scheduler_dir}/frames/step-{step:04d}/image-{image_index}.png"

    def grid(self, scheduler_dir: str) -> str:
        return f"{self.root}{scheduler_dir}/grid.png"

    @staticmethod
    def group_name(guidance_scale: float, seed: int) -> str:
        return f"cfg-{format_axis_value(guidance_scale)}_seed-{seed}"

    def reference_image(self, guidance_scale: float, seed: int, image_index: int) -> str:
        return f"{self.root}reference/{self.group_name(guidance_scale, seed)}/final/image-{image_index}.png"

    def sweep_grid(self, guidance_scale: float, seed: int, page: int, pages: int) -> str:
        suffix = f"-page-{page + 1}-of-{pages}" if pages > 1 else ""
        return f"{self.root}sweep/grid-{self.group_name(guidance_scale, seed)}{suffix}.png"

    @property
    def sweep_answer(self) -> str:
        return f"{self.root}sweep/answer.json"

    @property
    def sweep_plot(self) -> str:
        return f"{self.root}sweep/error-vs-nfe.png"

    def chart(self, name: str) -> str:
        return f"{self.root}charts/{name}.png"

    @property
    def contact_sheet(self) -> str:
        return f"{self.root}contact-sheet.png"

    @property
    def manifest(self) -> str:
        return f"{self.root}manifest.json"


def utcnow() -> datetime:
    return datetime.now(UTC)
