"""The scheduler catalog as the API sees it, without torch: every registry entry with its config keys, the models
workers serve, and the resolution of the names users type (registry ids, A1111 and ComfyUI names, schedule types).

`service/scheduler_catalog.json` is generated from the worker's registry (`schedlab catalog`); a test keeps it
in step. A worker registers its own model's catalog in Redis, which the API then checks that model's specs against.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import (
    BaseModel,
    Field,
    JsonValue,
)

from service.contract.spec import DEFAULT_REFERENCE_SCHEDULER, ComparisonSpec, SchedulerChoice
from service.errors import SpecError, UnknownSchedulerError

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
    unet_calls_per_step: int = Field(description="UNet calls per scheduler step (2 for second-order solvers).")
    extra_unet_calls: int = Field(
        description="UNet calls beyond steps x unet_calls_per_step: -1 for second-order solvers (their first step "
        "calls once), +1 for PNDM (it repeats its first timestep)."
    )
    pipeline_config: dict[str, JsonValue] = Field(
        default_factory=dict, description="Pipeline arguments the preset sets, e.g. guidance_rescale."
    )

    def names(self) -> list[str]:
        return [self.id, self.display_name, *self.aliases]

    def unet_calls(self, steps: int) -> int:
        """UNet calls (per image) for `steps` scheduler steps, by the registry's rule for this scheduler."""
        return steps * self.unet_calls_per_step + self.extra_unet_calls

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


# A flow-matching model's default reference: DPM-Solver++ 2M on flow sigmas.
FLOW_REFERENCE_SCHEDULER = "flow_dpmpp_2m"

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

    @property
    def default_reference_scheduler(self) -> str:
        """The solver of a sweep's default reference on this catalog's model: DPM-Solver++ 2M, or on a flow-matching
        model (which cannot run it) DPM-Solver++ 2M on flow sigmas."""
        return next(
            (name for name in (DEFAULT_REFERENCE_SCHEDULER, FLOW_REFERENCE_SCHEDULER) if self.accepts(name)),
            DEFAULT_REFERENCE_SCHEDULER,  # neither: check_spec says why the default cannot run
        )

    def for_spec(self, spec: ComparisonSpec) -> ComparisonSpec:
        """`spec` with this catalog's model's default reference, for where a spec meets the model it runs on."""
        return spec.with_default_reference(self.default_reference_scheduler)

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
