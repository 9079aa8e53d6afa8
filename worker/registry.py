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
  scheduler steps with the pipeline's own rule (`worker.lockstep.StepCounter`), and `RegistryEntry.unet_call_rule`
  says how many UNet calls N steps take, which the catalog carries to the API (it caps and prices jobs by it).
- Flow-sigma solvers (DPM-Solver, UniPC, DEIS with `use_flow_sigmas`) read their shift from `flow_shift`, while
  flow models' scheduler configs call it `shift`: `build_scheduler` copies the model's `shift` unless overridden.
- Flux passes `sigmas` and `mu` to `set_timesteps` (sigmas only when the scheduler has no `use_flow_sigmas`):
  `model_catalog` marks schedulers whose `set_timesteps` cannot take them unavailable on Flux (FlowMatchHeun).
- UniPC's bh1 variant (ComfyUI's and A1111's default UniPC) multiplies its update by B(h) = h, infinite on the last
  step to sigma 0: diffusers returns NaN there. ComfyUI stops bh1 at sigma 0.001; `build_scheduler` stops it at
  the schedule's smallest sigma (`final_sigmas_type="sigma_min"`) unless the user's config says otherwise.
- Zero terminal SNR (`rescale_betas_zero_snr`) leaves an epsilon model nothing to divide by at the last
  timestep: its presets are available only on v-prediction models.

Which entries a model can run is `model_catalog`: its scheduler's diffusers `compatibles`, flow-matching
schedulers (and flow-sigma solvers) for flow models only, and the rules above, each with a reason. A worker's
`SchedulerRegistry` holds its model's catalog and builds the schedulers of a checked spec's plan from the entries
behind it.
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

from service.contract import (
    Catalog,
    CatalogEntry,
    ComfyUISampler,
    ComparisonSpec,
    ConfigKey,
    JobPlan,
    JsonKind,
    Limits,
    ModelInfo,
    PlannedScheduler,
    SchedulerChoice,
    ScheduleType,
    check_spec,
)
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
# StorageLayout a user may not override: the model's training schedule length is not a sampling choice.
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
    # Why this A1111/ComfyUI name does not reproduce k-diffusion's sampler, as benchmarks/parity.py measures it.
    differs_from_a1111: str | None = None

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
    def unet_call_rule(self) -> tuple[int, int]:
        """UNet calls for N scheduler steps as (calls per step, extra calls): second-order solvers evaluate twice per
        step but the first (2N - 1); PNDM (PLMS) repeats its first timestep (N + 1); the rest call once (N)."""
        if self.order == 2:
            return 2, -1
        if self.class_name == "PNDMScheduler":
            return 1, 1
        return 1, 0

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


def _a1111(
    class_name: str, id: str, display_name: str, *aliases: str, description: str = "", differs: str | None = None
) -> RegistryEntry:
    """A base entry named after an A1111 sampler: the class on A1111's "Automatic" schedule (see `A1111`)."""
    return RegistryEntry(
        id, class_name, display_name, (class_name, *aliases), A1111, description, differs_from_a1111=differs
    )


# A1111's "Automatic" schedule (ComfyUI's "normal") is t linspace 999 -> 0 over N points, then sigma 0. SD 1.5's
# own config says timestep_spacing="leading" (t 951 -> 1), so every k-diffusion name needs "linspace" explicitly;
# Karras over "linspace" also spans the model's full sigma range, as k-diffusion's does.
# Measured against k-diffusion: docs/data/parity.json (benchmarks/parity.py).
A1111 = {"timestep_spacing": "linspace"}
KARRAS = {**A1111, "use_karras_sigmas": True}
# Why the other names differ, each cause measured by removing it (benchmarks/parity.py, `diagnose`).
_DROPS_PENULTIMATE = (
    "A1111 and ComfyUI drop the next-to-last sigma of an (N+1)-point schedule for DPM2; KDPM2 keeps it, and no "
    "config changes that (with it kept, k-diffusion and KDPM2 agree: see the diagnosis)"
)
_DPM_SOLVER_GRID = (
    "DPM-Solver's t grid is N+1 rounded points without the last (close to ComfyUI's sgm_uniform), not A1111's "
    "N-point linspace; no timestep_spacing gives A1111's"
)
_DPM_SOLVER_ROUNDS = (
    "DPMSolverMultistep rounds each UNet timestep to an integer (k-diffusion passes the fractional t of each "
    "Karras sigma) and starts from unit-variance noise, not sigma_max x noise; without both, they agree"
)
_GENERATOR_NOISE = "; its per-step noise comes from the generator, A1111's from a Brownian tree"
_BROWNIAN_TREE = (
    "its Brownian tree is queried at sigmas that differ from k-diffusion's in float rounding (< 5e-5), and the "
    "tree turns that into other noise; with the same per-step noise on both sides they agree"
)
_TRAILING_ROUNDS = (
    "'trailing' rounds t to integers (999, 949, ...: ComfyUI's 'simple' exactly); sgm_uniform's t are fractional "
    "(999, 949.05, ...)"
)

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
    _a1111("LMSDiscreteScheduler", "lms", "LMS"),
    RegistryEntry("lms_karras", "LMSDiscreteScheduler", "LMS Karras", (), KARRAS),
    _a1111("EulerDiscreteScheduler", "euler", "Euler"),
    _a1111("EulerAncestralDiscreteScheduler", "euler_a", "Euler a", "Euler Ancestral"),
    _a1111("HeunDiscreteScheduler", "heun", "Heun"),
    _a1111("KDPM2DiscreteScheduler", "dpm2", "DPM2", "KDPM2", differs=_DROPS_PENULTIMATE),
    RegistryEntry(
        "dpm2_karras", "KDPM2DiscreteScheduler", "DPM2 Karras", (), KARRAS, differs_from_a1111=_DROPS_PENULTIMATE
    ),
    _a1111(
        "KDPM2AncestralDiscreteScheduler",
        "dpm2_a",
        "DPM2 a",
        "KDPM2 Ancestral",
        differs=_DROPS_PENULTIMATE,
    ),
    RegistryEntry(
        "dpm2_a_karras",
        "KDPM2AncestralDiscreteScheduler",
        "DPM2 a Karras",
        (),
        KARRAS,
        differs_from_a1111=_DROPS_PENULTIMATE,
    ),
    # A1111's and ComfyUI's "DPM++ SDE" is k-diffusion's sample_dpmpp_sde: stochastic, with noise from a Brownian
    # tree seeded by the seed. DPMSolverSDE implements exactly that; DPMSolverSinglestep (diffusers' documented
    # mapping) is a deterministic ODE solver and keeps its own names below.
    _a1111(
        "DPMSolverSDEScheduler",
        "dpmpp_sde",
        "DPM++ SDE",
        "DPM++ SDE (Brownian tree)",
        "dpmpp_sde_tree",
        description="k-diffusion's DPM++ SDE: stochastic, Brownian-tree noise seeded by the job's seed.",
        differs=_BROWNIAN_TREE,
    ),
    RegistryEntry(
        "dpmpp_sde_karras",
        "DPMSolverSDEScheduler",
        "DPM++ SDE Karras",
        (),
        KARRAS,
        "k-diffusion's DPM++ SDE on the Karras schedule: stochastic, Brownian-tree noise seeded by the job's seed.",
        differs_from_a1111=_BROWNIAN_TREE,
    ),
    _a1111("DPMSolverMultistepScheduler", "dpmpp_2m", "DPM++ 2M", "DPMSolver multistep", differs=_DPM_SOLVER_GRID),
    RegistryEntry(
        "dpmpp_2m_karras",
        "DPMSolverMultistepScheduler",
        "DPM++ 2M Karras",
        (),
        KARRAS,
        differs_from_a1111=_DPM_SOLVER_ROUNDS,
    ),
    RegistryEntry(
        "dpmpp_2m_sde",
        "DPMSolverMultistepScheduler",
        "DPM++ 2M SDE",
        (),
        {**A1111, "algorithm_type": "sde-dpmsolver++"},
        differs_from_a1111=_DPM_SOLVER_GRID + _GENERATOR_NOISE,
    ),
    RegistryEntry(
        "dpmpp_2m_sde_karras",
        "DPMSolverMultistepScheduler",
        "DPM++ 2M SDE Karras",
        (),
        {**KARRAS, "algorithm_type": "sde-dpmsolver++"},
        differs_from_a1111=_DPM_SOLVER_ROUNDS + _GENERATOR_NOISE,
    ),
    _base(
        "DPMSolverSinglestepScheduler",
        "dpmpp_singlestep",
        "DPM-Solver++ singlestep",
        "DPMSolver singlestep",
        description="Deterministic DPM-Solver++ singlestep; diffusers' docs map A1111's 'DPM++ SDE' to it, wrongly.",
    ),
    _base("DEISMultistepScheduler", "deis", "DEIS"),
    _a1111(
        "UniPCMultistepScheduler",
        "unipc",
        "UniPC",
        description="diffusers' UniPC (bh2, order 2) from t 999, as A1111 and ComfyUI start it; A1111's own UniPC "
        'defaults to bh1 and order 3 (config {"solver_type": "bh1", "solver_order": 3}, or ComfyUI\'s uni_pc).',
    ),
    RegistryEntry(
        "euler_sgm_uniform",
        "EulerDiscreteScheduler",
        "Euler SGM Uniform",
        (),
        {"timestep_spacing": "trailing"},
        differs_from_a1111=_TRAILING_ROUNDS,
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


# ---------------------------------------------------------------------------------------------------------------
# Names users know from A1111 and ComfyUI (resolution itself is torch-free: `service.contract.Catalog.resolve_choice`)

# ComfyUI sampler names -> (registry entry, extra config). ComfyUI's uni_pc is UniPC's bh1 variant at order 3;
# diffusers' default is bh2 at order 2 (ComfyUI's uni_pc_bh2 is bh2 at order 3). bh1 cannot step to sigma 0: see
# `build_scheduler`.
COMFYUI_SAMPLERS: dict[str, ComfyUISampler] = {
    "euler": ComfyUISampler(entry="euler"),
    "euler_ancestral": ComfyUISampler(entry="euler_a"),
    "heun": ComfyUISampler(entry="heun"),
    "dpm_2": ComfyUISampler(entry="dpm2"),
    "dpm_2_ancestral": ComfyUISampler(entry="dpm2_a"),
    "lms": ComfyUISampler(entry="lms"),
    "dpmpp_2m": ComfyUISampler(entry="dpmpp_2m"),
    "dpmpp_sde": ComfyUISampler(entry="dpmpp_sde"),
    "dpmpp_2m_sde": ComfyUISampler(entry="dpmpp_2m_sde"),
    "ddim": ComfyUISampler(entry="ddim"),
    "uni_pc": ComfyUISampler(entry="unipc", config={"solver_type": "bh1", "solver_order": 3}),
    "uni_pc_bh2": ComfyUISampler(entry="unipc", config={"solver_type": "bh2", "solver_order": 3}),
}

# The DPM-Solver family's "linspace" is N+1 points of t without the last: ComfyUI's sgm_uniform.
_N_PLUS_ONE_LINSPACE = ("DPMSolverMultistepScheduler", "DEISMultistepScheduler", "UniPCMultistepScheduler")
_NOT_A_CONFIG = "no diffusers scheduler config expresses it"

# Schedule types (A1111's "Schedule type", ComfyUI's "scheduler") as config overrides. `normal` is each sampler's
# own entry, which is A1111's "Automatic" where diffusers can express it (see `A1111`).
SCHEDULES: dict[str, ScheduleType] = {
    "normal": ScheduleType(names=["normal", "Automatic"], description="t linspace 999 -> 0, then sigma 0."),
    "karras": ScheduleType(
        names=["karras", "Karras"], config={"use_karras_sigmas": True}, description="Karras et al., rho 7."
    ),
    "exponential": ScheduleType(
        names=["exponential", "Exponential"],
        config={"use_exponential_sigmas": True},
        description="Sigmas evenly spaced in log sigma.",
    ),
    "sgm_uniform": ScheduleType(
        names=["sgm_uniform", "SGM Uniform"],
        config={"timestep_spacing": "trailing"},
        config_by_class={name: {"timestep_spacing": "linspace"} for name in _N_PLUS_ONE_LINSPACE},
        description="N+1 points of a t linspace without the last, then sigma 0; diffusers rounds those t to "
        "integers, so this is close, not exact (see the parity report).",
    ),
    "simple": ScheduleType(
        names=["simple", "Simple"],
        config={"timestep_spacing": "trailing"},
        description="Every (1000/N)-th training timestep from the top: t 999, 949, ...",
    ),
    "ddim_uniform": ScheduleType(
        names=["ddim_uniform", "DDIM"],
        config={"timestep_spacing": "leading", "steps_offset": 1},
        description="t = 1 + k * (1000 // N): SD 1.5's own config.",
    ),
    "beta": ScheduleType(
        names=["beta", "Beta"],
        config={"use_beta_sigmas": True},
        description="Beta(0.6, 0.6) quantiles; diffusers spaces them in sigma, ComfyUI in training timesteps.",
    ),
    "align_your_steps": ScheduleType(
        names=["align_your_steps", "Align Your Steps", "AYS"],
        unsupported_reason="diffusers gives Align Your Steps as a timestep list for the pipeline's `timesteps` "
        "argument (diffusers.schedulers.AysSchedules), not as a scheduler config",
    ),
    "linear_quadratic": ScheduleType(names=["linear_quadratic", "Linear Quadratic"], unsupported_reason=_NOT_A_CONFIG),
    "kl_optimal": ScheduleType(names=["kl_optimal", "KL Optimal"], unsupported_reason=_NOT_A_CONFIG),
}


def is_stochastic(class_name: str, config: dict[str, Any]) -> bool:
    return class_name in _STOCHASTIC_CLASSES or config.get("algorithm_type") in _SDE_ALGORITHMS


_ENTRIES_BY_ID = {entry.id: entry for entry in ENTRIES}


def entry_by_id(entry_id: str) -> RegistryEntry:
    return _ENTRIES_BY_ID[entry_id]


# ---------------------------------------------------------------------------------------------------------------
# Building a scheduler for one run


@dataclass
class BuiltScheduler:
    entry: RegistryEntry
    scheduler: SchedulerMixin
    effective_config: dict[str, Any]
    stochastic: bool
    call_config: dict[str, Any] = field(default_factory=dict)

    def config_after_run(self) -> dict[str, Any]:
        """The config as it ran: `set_timesteps` may rewrite it (DPMSolverSinglestep's lower_order_final)."""
        scheduler: Any = self.scheduler  # `config` is registered at run time by diffusers' ConfigMixin
        return plain_config(scheduler.config)


def build_scheduler(
    entry: RegistryEntry, model_config: dict[str, Any], choice: SchedulerChoice, seed: int, field: str
) -> BuiltScheduler:
    """A fresh scheduler instance (they hold state) from the model's config, the preset and the user's overrides."""
    config = {**entry.preset, **choice.config}
    if entry.class_name in _CLIP_SAMPLE_CLASSES and "clip_sample" not in config:
        config["clip_sample"] = False
    if entry.class_name == "DPMSolverSDEScheduler" and config.get("noise_sampler_seed") is None:
        config["noise_sampler_seed"] = seed
    if entry.class_name == "UniPCMultistepScheduler" and config.get("solver_type") == "bh1":
        config.setdefault("final_sigmas_type", "sigma_min")
    if config.get("use_flow_sigmas") and "flow_shift" not in config and "shift" in model_config:
        config["flow_shift"] = model_config["shift"]
    try:
        scheduler = entry.scheduler_class.from_config(model_config, **config)
    except (ValueError, TypeError, NotImplementedError, RuntimeError) as error:  # RuntimeError: raised in torch
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


class SchedulerRegistry:
    """The registry as one model sees it: the catalog it publishes (what the API checks this model's specs
    against) and the entries behind that catalog, which build the schedulers of a checked spec's plan."""

    def __init__(self, family: Family, scheduler_config: dict[str, Any], model: ModelInfo | None = None) -> None:
        self.scheduler_config = scheduler_config  # the model's own: every scheduler derives from it
        self.catalog = model_catalog(family, scheduler_config, model)

    def plan(self, spec: ComparisonSpec, limits: Limits) -> JobPlan:
        """Check the spec against this model's catalog: every name resolved once; raises `SpecError`."""
        return check_spec(spec, limits, self.catalog)

    def build(self, planned: PlannedScheduler, seed: int) -> BuiltScheduler:
        """A fresh scheduler instance for one run of `planned`, seeded for its cell (DPMSolverSDE's tree)."""
        entry = _ENTRIES_BY_ID[planned.entry.id]
        return build_scheduler(entry, self.scheduler_config, planned.choice, seed, planned.field)


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
    for entry, described in zip(ENTRIES, catalog().entries, strict=True):
        reason = described.unavailable_reason or incompatibility(entry, family, prediction, compatible)
        entries.append(described.model_copy(update={"available": reason is None, "unavailable_reason": reason}))
    return Catalog(
        diffusers_version=diffusers.__version__,
        entries=entries,
        model=model,
        comfyui_samplers=COMFYUI_SAMPLERS,
        schedules=SCHEDULES,
    )


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
                differs_from_a1111=entry.differs_from_a1111,
                config_keys=config_keys(entry.scheduler_class),
                unet_calls_per_step=entry.unet_call_rule[0],
                extra_unet_calls=entry.unet_call_rule[1],
                pipeline_config=entry.call_config,
            )
        )
    return Catalog(
        diffusers_version=diffusers.__version__,
        entries=entries,
        comfyui_samplers=COMFYUI_SAMPLERS,
        schedules=SCHEDULES,
    )
