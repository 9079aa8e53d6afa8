"""The comparison spec: what a client asks for (prompt, schedulers, sweep axes, capture, frames, decoder,
execution, reference, webhook), the bounds any deployment accepts, and the sweep cells a spec expands to."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    PrivateAttr,
    Strict,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

# The spec's own bounds: what any deployment may accept. A deployment's caps (`Limits`, set from `Settings`) are
# at most these.
MAX_STEPS = 1000
MAX_IMAGES = 16
MAX_SCHEDULERS = 64
MAX_PROMPT_CHARS = 10_000
MAX_GUIDANCE_SCALE = 50.0
MAX_SEED = 2**63 - 1 - 16  # seed + image index must still fit torch.Generator.manual_seed

# The solver of a sweep's default reference: DPM-Solver++ 2M, a deterministic high-order solver. Flow-matching models
# cannot run it; their catalogs name its flow-sigma version (`Catalog.default_reference_scheduler`).
DEFAULT_REFERENCE_SCHEDULER = "dpmpp_2m"


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

    every: Integer | None = Field(None, ge=1, le=MAX_STEPS)
    steps: list[Annotated[Integer, Field(ge=1, le=MAX_STEPS)]] | None = Field(None, min_length=1, max_length=MAX_STEPS)

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
        DEFAULT_REFERENCE_SCHEDULER,
        min_length=1,
        max_length=100,
        description="A deterministic scheduler; default DPM-Solver++ 2M, a high-order solver (on a flow-matching "
        "model, name a flow solver such as flow_dpmpp_2m, or leave `reference` out for the model's default).",
    )
    steps: Integer = Field(100, ge=1, le=MAX_STEPS)
    tolerance: Number = Field(
        0.05,
        gt=0,
        le=1,
        description="A cell is 'within the reference's neighbourhood' when its final images' median pixel RMSE "
        "(pixels in [0, 1]) to the reference's, averaged over seeds, is at most this.",
    )


# A sweep axis: one value (as a single-value job) or a list of distinct values (a sweep). Bounds are checked by
# `_check_axis` so that every error names the field itself, whichever form was sent.
AXIS_BOUNDS: dict[str, tuple[float, float]] = {
    "steps": (1, MAX_STEPS),
    "guidance_scale": (0.0, MAX_GUIDANCE_SCALE),
    "seed": (0, MAX_SEED),
}
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
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)
    negative_prompt: str | None = Field(None, max_length=MAX_PROMPT_CHARS)
    seed: Integer | list[Integer] = Field(
        0, description=f"0 to {MAX_SEED}, or a list of distinct seeds (a sweep axis)."
    )
    num_images: Integer = Field(4, ge=1, le=MAX_IMAGES)
    steps: Integer | list[Integer] = Field(
        30, description=f"1 to {MAX_STEPS} scheduler steps, or a list of distinct step counts (a sweep axis)."
    )
    guidance_scale: Number | list[Number] = Field(
        7.5, description=f"0 to {MAX_GUIDANCE_SCALE:g}, or a list of distinct guidance scales (a sweep axis)."
    )
    height: Integer | None = Field(None, ge=8, description="Pixels, a multiple of 8; default: the model's own size.")
    width: Integer | None = Field(None, ge=8, description="Pixels, a multiple of 8; default: the model's own size.")
    schedulers: list[SchedulerChoice] = Field(min_length=1, max_length=MAX_SCHEDULERS)
    capture: Capture | None = Field(
        None,
        description="Default: every ceil(steps / 6) steps (about six frames), so it fits any `steps`. "
        "The final step is always captured.",
    )
    frames: FrameKind = FrameKind.latent
    decoder: Decoder = Decoder.vae
    reference: Reference | None = Field(
        None,
        description="What sweep cells are measured against; sweeps default to DPM++ 2M at 100 steps (Flow DPM++ 2M "
        "on flow-matching models). A single-value job runs one only when asked.",
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

    # The default reference's solver on the model the spec runs on: a spec alone does not know its model's family.
    # Set by `with_default_reference` wherever a spec meets its model's catalog; never part of the spec's JSON.
    _default_reference_scheduler: str = PrivateAttr(DEFAULT_REFERENCE_SCHEDULER)

    def with_default_reference(self, scheduler: str) -> ComparisonSpec:
        """This spec, its default reference (when it asks for none) run by `scheduler`: its model's default."""
        spec = self.model_copy()
        spec._default_reference_scheduler = scheduler
        return spec

    def resolved_reference(self) -> Reference | None:
        """The reference to run: the one asked for, the model's default for a sweep, none for a plain job."""
        if self.reference is not None:
            return self.reference
        return Reference(scheduler=self._default_reference_scheduler) if self.is_sweep else None

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
