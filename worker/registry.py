"""The scheduler registry: one entry per scheduler or preset, and every scheduler quirk handled here, once.

Adding a scheduler means one `RegistryEntry` and a test parameter. The API never imports this module: it reads
`service/scheduler_catalog.json`, which `catalog()` generates from these entries (`schedlab catalog`).

Quirks and where they are handled:
- DDIM/DDPM unsafe defaults: `clip_sample=True` wrecks SD latents, so `build_scheduler` forces it off unless the
  user's own config asks for it (the `ddim_class_defaults` preset does, to reproduce the original experiment).
- DPMSolverSDE's noise: it ignores the pipeline's generator and draws from a Brownian tree seeded by
  `noise_sampler_seed` (the global RNG when unset); `build_scheduler` seeds it from the job's seed.
- DPMSolverSinglestep rewrites its own config in `set_timesteps` (`lower_order_final` turns on whenever
  `final_sigmas_type` is `zero`): the engine records the effective config after the run, with `plain_config`, so
  the manifest shows what actually ran.
- EDMEuler: its sigmas (sigma_max=80, log-sigma timesteps) don't fit an SD 1.x UNet; listed as unavailable.
- PNDM's repeated second timestep and order-2 schedulers' two UNet calls per step: the runner counts completed
  scheduler steps with the pipeline's own rule (`worker.engine.StepCounter`).
- Flow-sigma solvers (DPM-Solver, UniPC, DEIS with `use_flow_sigmas`) read their shift from `flow_shift`, while
  flow models' scheduler configs call it `shift`: `build_scheduler` copies the model's `shift` unless overridden.
- Flux passes `sigmas` and `mu` to `set_timesteps` (sigmas only when the scheduler has no `use_flow_sigmas`):
  `model_catalog` marks schedulers whose `set_timesteps` cannot take them unavailable on Flux (FlowMatchHeun).
- Zero terminal SNR (`rescale_betas_zero_snr`) leaves an epsilon model nothing to divide by at the last
  timestep: its presets are available only on v-prediction models.

Which entries a model can run is `model_catalog`: its scheduler's diffusers `compatibles`, flow-matching
schedulers (and flow-sigma solvers) for flow models only, and the rules above, each with a reason.
"""

from __future__ import annotations

import importlib.util
import inspect
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

import diffusers
from diffusers import SchedulerMixin

from service.contract import Catalog, CatalogEntry, ConfigKey, JsonKind, ModelInfo, SchedulerChoice
from service.errors import SpecError
from worker.families import Family

SCHEDULER_CLASSES = (
    "DDIMScheduler",
    "DDPMScheduler",
    "PNDMScheduler",
    "LMSDiscreteScheduler",
    "EulerDiscreteScheduler",
    "EulerAncestralDiscreteScheduler",
    "HeunDiscreteScheduler",
    "KDPM2DiscreteScheduler",
    "KDPM2AncestralDiscreteScheduler",
    "DPMSolverSDEScheduler",
    "DPMSolverMultistepScheduler",
    "DPMSolverSinglestepScheduler",
    "DEISMultistepScheduler",
    "UniPCMultistepScheduler",
    "EDMEulerScheduler",
    "FlowMatchEulerDiscreteScheduler",
    "FlowMatchHeunDiscreteScheduler",
)

# Schedulers that draw fresh noise at every step (from the pipeline generator, or DPMSolverSDE's own tree).
_STOCHASTIC_CLASSES = {
    "DDPMScheduler",
    "EulerAncestralDiscreteScheduler",
    "KDPM2AncestralDiscreteScheduler",
    "DPMSolverSDEScheduler",
}
_SDE_ALGORITHMS = {"sde-dpmsolver", "sde-dpmsolver++"}
_CLIP_SAMPLE_CLASSES = {"DDIMScheduler", "DDPMScheduler"}
_REQUIRED_MODULES = {"LMSDiscreteScheduler": "scipy", "DPMSolverSDEScheduler": "torchsde"}
_UNUSABLE = {
    "EDMEulerScheduler": "its EDM sigmas (sigma_max=80, log-sigma timesteps) do not fit an SD 1.x epsilon UNet",
}
# Keys a user may not override: the model's training schedule length is not a sampling choice.
_FIXED_KEYS = {"num_train_timesteps"}

SD_EXPLICIT_DDIM = {
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "clip_sample": False,
    "set_alpha_to_one": False,
}


@dataclass(frozen=True)
class RegistryEntry:
    """A scheduler as users name it: a diffusers class plus a preset config."""

    id: str
    class_name: str
    display_name: str
    aliases: tuple[str, ...] = ()
    preset: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    # Arguments of the pipeline's `__call__` the preset sets (the zero-SNR recipe's guidance_rescale).
    call_config: dict[str, Any] = field(default_factory=dict)

    @property
    def scheduler_class(self) -> type[SchedulerMixin]:
        return typing.cast(type[SchedulerMixin], getattr(diffusers, self.class_name))

    @property
    def stochastic(self) -> bool:
        return is_stochastic(self.class_name, self.preset)

    @property
    def order(self) -> int:
        return int(getattr(self.scheduler_class, "order", 1))

    @property
    def unavailable_reason(self) -> str | None:
        if self.class_name in _UNUSABLE:
            return _UNUSABLE[self.class_name]
        module = _REQUIRED_MODULES.get(self.class_name)
        if module and importlib.util.find_spec(module) is None:
            return f"needs the `{module}` package, which this worker lacks"
        return None


def _base(class_name: str, id: str, display_name: str, *aliases: str, description: str = "") -> RegistryEntry:
    # A base entry answers to its class name too; presets of the same class don't.
    return RegistryEntry(id, class_name, display_name, (class_name, *aliases), description=description)


ENTRIES: tuple[RegistryEntry, ...] = (
    _base("DDIMScheduler", "ddim", "DDIM", description="DDIM from the model's scheduler config."),
    RegistryEntry(
        "ddim_sd_explicit",
        "DDIMScheduler",
        "DDIM (explicit SD config)",
        ("DDIM explicit",),
        SD_EXPLICIT_DDIM,
        "The original experiment's second DDIM: SD's betas with clip_sample and set_alpha_to_one off.",
    ),
    RegistryEntry(
        "ddim_class_defaults",
        "DDIMScheduler",
        "DDIM (class defaults)",
        (),
        {"clip_sample": True, "set_alpha_to_one": True, "steps_offset": 0},
        "DDIM's own defaults (clip_sample on), which the original experiment saw drift off the prompt.",
    ),
    _base("DDPMScheduler", "ddpm", "DDPM"),
    _base("PNDMScheduler", "pndm", "PNDM", "PLMS"),
    _base("LMSDiscreteScheduler", "lms", "LMS"),
    RegistryEntry("lms_karras", "LMSDiscreteScheduler", "LMS Karras", (), {"use_karras_sigmas": True}),
    _base("EulerDiscreteScheduler", "euler", "Euler"),
    _base("EulerAncestralDiscreteScheduler", "euler_a", "Euler a", "Euler Ancestral"),
    _base("HeunDiscreteScheduler", "heun", "Heun"),
    _base("KDPM2DiscreteScheduler", "dpm2", "DPM2", "KDPM2"),
    RegistryEntry("dpm2_karras", "KDPM2DiscreteScheduler", "DPM2 Karras", (), {"use_karras_sigmas": True}),
    _base("KDPM2AncestralDiscreteScheduler", "dpm2_a", "DPM2 a", "KDPM2 Ancestral"),
    RegistryEntry("dpm2_a_karras", "KDPM2AncestralDiscreteScheduler", "DPM2 a Karras", (), {"use_karras_sigmas": True}),
    _base("DPMSolverSDEScheduler", "dpmpp_sde_tree", "DPMSolverSDE", "DPM++ SDE (Brownian tree)"),
    _base("DPMSolverMultistepScheduler", "dpmpp_2m", "DPM++ 2M", "DPMSolver multistep"),
    RegistryEntry("dpmpp_2m_karras", "DPMSolverMultistepScheduler", "DPM++ 2M Karras", (), {"use_karras_sigmas": True}),
    RegistryEntry(
        "dpmpp_2m_sde",
        "DPMSolverMultistepScheduler",
        "DPM++ 2M SDE",
        (),
        {"algorithm_type": "sde-dpmsolver++"},
    ),
    RegistryEntry(
        "dpmpp_2m_sde_karras",
        "DPMSolverMultistepScheduler",
        "DPM++ 2M SDE Karras",
        (),
        {"algorithm_type": "sde-dpmsolver++", "use_karras_sigmas": True},
    ),
    _base(
        "DPMSolverSinglestepScheduler",
        "dpmpp_sde",
        "DPM++ SDE",
        "DPMSolver singlestep",
        description="diffusers' mapping of A1111's 'DPM++ SDE' (DPMSolverSDE is closer algorithmically).",
    ),
    _base("DEISMultistepScheduler", "deis", "DEIS"),
    _base("UniPCMultistepScheduler", "unipc", "UniPC"),
    RegistryEntry(
        "euler_sgm_uniform",
        "EulerDiscreteScheduler",
        "Euler SGM Uniform",
        (),
        {"timestep_spacing": "trailing"},
    ),
    _base("EDMEulerScheduler", "edm_euler", "EDM Euler"),
    # v-prediction: the zero-terminal-SNR recipe (Lin et al. 2023, arXiv 2305.08891, section 3)
    RegistryEntry(
        "ddim_zero_snr",
        "DDIMScheduler",
        "DDIM zero terminal SNR",
        ("DDIM ZSNR",),
        {"rescale_betas_zero_snr": True, "timestep_spacing": "trailing"},
        "Zero terminal SNR: rescaled betas, trailing timesteps, guidance_rescale 0.7. v-prediction models only.",
        {"guidance_rescale": 0.7},
    ),
    RegistryEntry(
        "euler_zero_snr",
        "EulerDiscreteScheduler",
        "Euler zero terminal SNR",
        (),
        {"rescale_betas_zero_snr": True, "timestep_spacing": "trailing"},
        "Euler with the zero-terminal-SNR recipe. v-prediction models only.",
        {"guidance_rescale": 0.7},
    ),
    # Flow matching (SD 3, Flux)
    _base("FlowMatchEulerDiscreteScheduler", "flow_euler", "Flow Euler", "FlowMatch Euler"),
    RegistryEntry(
        "flow_euler_karras", "FlowMatchEulerDiscreteScheduler", "Flow Euler Karras", (), {"use_karras_sigmas": True}
    ),
    _base(
        "FlowMatchHeunDiscreteScheduler",
        "flow_heun",
        "Flow Heun",
        "FlowMatch Heun",
        description="Second order; not on Flux, whose pipeline passes sigmas and mu that it does not take.",
    ),
    RegistryEntry(
        "flow_dpmpp_2m",
        "DPMSolverMultistepScheduler",
        "Flow DPM++ 2M",
        (),
        {"use_flow_sigmas": True, "prediction_type": "flow_prediction"},
        "DPM-Solver++ 2M on flow sigmas (diffusers calls this support limited).",
    ),
    RegistryEntry(
        "flow_unipc",
        "UniPCMultistepScheduler",
        "Flow UniPC",
        (),
        {"use_flow_sigmas": True, "prediction_type": "flow_prediction"},
        "UniPC on flow sigmas (diffusers calls this support limited).",
    ),
    RegistryEntry(
        "flow_deis",
        "DEISMultistepScheduler",
        "Flow DEIS",
        (),
        {"use_flow_sigmas": True, "prediction_type": "flow_prediction"},
        "DEIS on flow sigmas (diffusers calls this support limited).",
    ),
)


def is_stochastic(class_name: str, config: dict[str, Any]) -> bool:
    return class_name in _STOCHASTIC_CLASSES or config.get("algorithm_type") in _SDE_ALGORITHMS


def entry_by_id(entry_id: str) -> RegistryEntry:
    for entry in ENTRIES:
        if entry.id == entry_id:
            return entry
    raise KeyError(entry_id)


# ---------------------------------------------------------------------------------------------------------------
# Building a scheduler for one run


@dataclass
class BuiltScheduler:
    entry: RegistryEntry
    scheduler: SchedulerMixin
    effective_config: dict[str, Any]
    stochastic: bool
    call_config: dict[str, Any] = field(default_factory=dict)


def build_scheduler(
    entry: RegistryEntry, model_config: dict[str, Any], choice: SchedulerChoice, seed: int, field: str
) -> BuiltScheduler:
    """A fresh scheduler instance (they hold state) from the model's config, the preset and the user's overrides."""
    config = {**entry.preset, **choice.config}
    if entry.class_name in _CLIP_SAMPLE_CLASSES and "clip_sample" not in config:
        config["clip_sample"] = False
    if entry.class_name == "DPMSolverSDEScheduler" and config.get("noise_sampler_seed") is None:
        config["noise_sampler_seed"] = seed
    if config.get("use_flow_sigmas") and "flow_shift" not in config and "shift" in model_config:
        config["flow_shift"] = model_config["shift"]
    try:
        scheduler = entry.scheduler_class.from_config(model_config, **config)
    except (ValueError, TypeError, NotImplementedError) as error:
        raise SpecError(f"{field}.config", f"{entry.class_name} rejects this config: {error}") from error
    effective = plain_config(scheduler.config)
    stochastic = is_stochastic(entry.class_name, effective)
    return BuiltScheduler(entry, scheduler, effective, stochastic, dict(entry.call_config))


def plain_config(config: Any) -> dict[str, Any]:
    """A scheduler config as JSON-ready data, without diffusers' private keys."""
    plain: dict[str, Any] = {}
    for key, value in dict(config).items():
        if key.startswith("_"):
            continue
        plain[key] = value.tolist() if hasattr(value, "tolist") else value
    return plain


# ---------------------------------------------------------------------------------------------------------------
# The torch-free catalog the API reads


def config_keys(scheduler_class: type) -> dict[str, ConfigKey]:
    """Overridable config keys of a scheduler class, typed from its `__init__` signature."""
    initializer = vars(scheduler_class)["__init__"]
    signature = inspect.signature(initializer)
    try:
        hints = typing.get_type_hints(initializer)
    except Exception:  # some annotations name types only importable at type-check time
        hints = {}
    keys: dict[str, ConfigKey] = {}
    for name, parameter in signature.parameters.items():
        if name == "self" or name in _FIXED_KEYS or parameter.kind in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
            continue
        default = parameter.default if parameter.default is not inspect.Parameter.empty else None
        keys[name] = _describe(hints.get(name), default)
    return keys


def _describe(annotation: Any, default: Any) -> ConfigKey:
    nullable = default is None
    choices: list[str] | None = None
    kind: JsonKind = "any"
    candidates = [annotation]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        candidates = list(typing.get_args(annotation))
    concrete = [c for c in candidates if c is not type(None)]
    nullable = nullable or len(concrete) < len(candidates)
    if len(concrete) == 1:
        hint = concrete[0]
        if typing.get_origin(hint) is Literal:
            choices = [str(v) for v in typing.get_args(hint)]
            kind = "string"
        else:
            kind = _JSON_KIND.get(hint, _JSON_KIND.get(typing.get_origin(hint), "any"))
    elif all(typing.get_origin(c) in (list, tuple) or c in (list, tuple) or _is_array(c) for c in concrete):
        kind = "array"
    if kind == "any" and default is not None:
        kind = _JSON_KIND.get(type(default), "any")
    json_default = default if isinstance(default, (bool, int, float, str, type(None))) else None
    return ConfigKey(type=kind, nullable=nullable, choices=choices, default=json_default)


_JSON_KIND: dict[Any, JsonKind] = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array"}


def _is_array(hint: Any) -> bool:
    return getattr(hint, "__name__", "") == "ndarray"


def _flow_capable(entry: RegistryEntry) -> bool:
    """A flow-matching scheduler, or a solver preset that runs on flow sigmas."""
    return entry.class_name.startswith("FlowMatch") or bool(entry.preset.get("use_flow_sigmas"))


def incompatibility(
    entry: RegistryEntry, family: Family, prediction_type: str, compatible_classes: set[str]
) -> str | None:
    """Why `entry` cannot run on a model of `family`, or None. The rules of the module docstring, in order."""
    kind = "a flow-matching" if family.flow_matching else f"an {prediction_type}-prediction"
    if family.flow_matching and not _flow_capable(entry):
        flow_ids = ", ".join(e.id for e in ENTRIES if _flow_capable(e))
        return f"{entry.class_name} is not a flow-matching scheduler and this is a flow-matching model; use {flow_ids}"
    if not family.flow_matching and _flow_capable(entry):
        return f"{entry.id} is a flow-matching scheduler; this is {kind} model"
    if not _flow_capable(entry) and entry.class_name not in compatible_classes:
        return f"{entry.class_name} is not among the model scheduler's diffusers `compatibles`"
    if family.name == "flux":
        parameters = inspect.signature(entry.scheduler_class.set_timesteps).parameters
        takes_sigmas = "sigmas" in parameters or bool(entry.preset.get("use_flow_sigmas"))
        if "mu" not in parameters or not takes_sigmas:
            return f"FluxPipeline passes sigmas and mu to set_timesteps, which {entry.class_name} does not take"
    if entry.preset.get("rescale_betas_zero_snr") and prediction_type != "v_prediction":
        return f"zero terminal SNR needs a v-prediction model; this one is {kind} model"
    if entry.call_config.get("guidance_rescale") and not family.takes_guidance_rescale:
        return f"{family.pipeline_class} takes no guidance_rescale"
    return None


def model_catalog(family: Family, scheduler_config: dict[str, Any], model: ModelInfo | None = None) -> Catalog:
    """The catalog of one model: every entry, available or not, with the reason it cannot run on this model."""
    scheduler_class = getattr(diffusers, str(scheduler_config.get("_class_name", "PNDMScheduler")))
    compatible = {cls.__name__ for cls in scheduler_class._get_compatibles()} | {scheduler_class.__name__}
    prediction = "flow" if family.flow_matching else str(scheduler_config.get("prediction_type", "epsilon"))
    entries = []
    for entry in catalog().entries:
        reason = entry.unavailable_reason or incompatibility(entry_by_id(entry.id), family, prediction, compatible)
        entries.append(entry.model_copy(update={"available": reason is None, "unavailable_reason": reason}))
    return Catalog(diffusers_version=diffusers.__version__, entries=entries, model=model)


def catalog() -> Catalog:
    """Every registry entry; `available` says only whether this worker's packages can run it (any model)."""
    entries = []
    for entry in ENTRIES:
        reason = entry.unavailable_reason
        entries.append(
            CatalogEntry(
                id=entry.id,
                display_name=entry.display_name,
                class_name=entry.class_name,
                aliases=list(entry.aliases),
                preset_config=entry.preset,
                stochastic=entry.stochastic,
                order=entry.order,
                available=reason is None,
                unavailable_reason=reason,
                description=entry.description,
                config_keys=config_keys(entry.scheduler_class),
                pipeline_config=entry.call_config,
            )
        )
    return Catalog(diffusers_version=diffusers.__version__, entries=entries)
