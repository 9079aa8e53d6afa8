#!/usr/bin/env python
"""A1111 / ComfyUI parity: schedlab's preset of each sampler name against k-diffusion's reference sampler.

For each name (A1111's "DPM++ 2M Karras", ComfyUI's "dpmpp_2m karras", ...), on the same model, from the same
initial noise and with the same classifier-free guidance, it runs
  - the reference: `k_diffusion.sampling.sample_*` (PyPI `k-diffusion==0.1.1.post1`, as A1111 and ComfyUI call
    it) on k-diffusion's discrete-epsilon denoiser (`DiscreteEpsDDPMDenoiser`, what A1111's `CompVisDenoiser`
    is) wrapped around the UNet, with the sigma schedule the name means (A1111's "Automatic" = ComfyUI's
    "normal": t linspace 999 → 0 with log-sigma interpolation and a trailing 0; "Karras": `get_sigmas_karras`
    over the model's sigma_min/max, rho 7; DPM2 / DPM2 a drop the next-to-last sigma, as both UIs do);
  - schedlab: the name resolved through the catalog, the scheduler built by the worker's registry, run through
    the model's own `StableDiffusionPipeline.__call__` (what the engine runs);
and reports both sigma schedules and their largest difference, the relative distance of the final latents
(‖a − b‖ / ‖b‖, b the reference) and the PSNR of the decoded final images.

Noise: ancestral and SDE samplers draw fresh noise each step. DPM++ SDE takes it from a Brownian tree seeded with
the seed on both sides (A1111's and diffusers' construction). The other stochastic samplers take the reference's
per-step noise from the same generator stream diffusers draws from, so the comparison measures schedule and
solver, not seeds (A1111 draws on the GPU and ComfyUI from its own streams: seeds never carry across tools).

    .venv/bin/python benchmarks/parity.py            # demo and tiny model, writes docs/data/parity.json
    .venv/bin/python benchmarks/parity.py --search   # also tries candidate diffusers configs per name

k-diffusion's package `__init__` imports its training stack (wandb, clean-fid, torchvision, ...), so only
`sampling.py` and `external.py` are loaded, from the installed distribution (`make install` installs it with
`--no-deps`; sampling.py itself needs scipy, torchdiffeq, torchsde and tqdm).
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys
import time
import types
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import torch

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from service.contract import Catalog, load_catalog  # noqa: E402
from worker.model import LoadedModel  # noqa: E402
from worker.registry import build_scheduler, entry_by_id  # noqa: E402

# What the issue calls a match: relative final-latent distance on the demo model.
MATCH_TOLERANCE = 1e-3
DEFAULT_PROMPT = "a red circle on a blue background"
DEFAULT_SEEDS = (0, 1)
DEFAULT_STEPS = 20
DEFAULT_GUIDANCE = 7.5


# ---------------------------------------------------------------------------------------------------------------
# k-diffusion without its package __init__


@cache
def k_diffusion() -> tuple[types.ModuleType, types.ModuleType]:
    """(`k_diffusion.sampling`, `k_diffusion.external`) loaded from the installed package, bypassing `__init__`.

    Both modules use one helper from `k_diffusion.utils` (`append_dims`), whose module imports torchvision; a
    stand-in package provides that helper, verbatim, under a private name so nothing else sees a half package.
    """
    spec = importlib.util.find_spec("k_diffusion")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "k-diffusion is not installed: `python -m pip install --no-deps k-diffusion==0.1.1.post1` "
            "(it also needs scipy, torchdiffeq, torchsde, tqdm; `make install` installs them)"
        )
    root = Path(next(iter(spec.submodule_search_locations)))
    package_name = "_schedlab_k_diffusion"
    package = types.ModuleType(package_name)
    package.__path__ = [str(root)]
    utils = types.ModuleType(f"{package_name}.utils")

    def append_dims(x: torch.Tensor, target_dims: int) -> torch.Tensor:
        dims_to_append = target_dims - x.ndim
        if dims_to_append < 0:
            raise ValueError(f"input has {x.ndim} dims but target_dims is {target_dims}, which is less")
        return x[(...,) + (None,) * dims_to_append]

    utils.append_dims = append_dims  # type: ignore[attr-defined]
    sys.modules[package_name] = package
    sys.modules[utils.__name__] = utils
    package.utils = utils  # type: ignore[attr-defined]
    loaded = []
    for name in ("sampling", "external"):
        module_spec = importlib.util.spec_from_file_location(f"{package_name}.{name}", root / f"{name}.py")
        assert module_spec is not None and module_spec.loader is not None
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_spec.name] = module
        module_spec.loader.exec_module(module)
        setattr(package, name, module)
        loaded.append(module)
    return loaded[0], loaded[1]


# ---------------------------------------------------------------------------------------------------------------
# What each name means in A1111 / ComfyUI


@dataclass(frozen=True)
class KSampler:
    """A k-diffusion sampler as A1111 and ComfyUI call it."""

    function: str  # in k_diffusion.sampling
    discard_penultimate_sigma: bool = False  # A1111 and ComfyUI drop it for DPM2 / DPM2 a
    brownian_tree: bool = False  # its per-step noise comes from a seeded Brownian tree (both sides)
    stochastic: bool = False


# ComfyUI's sampler names; A1111's display names map onto them below.
K_SAMPLERS: dict[str, KSampler] = {
    "euler": KSampler("sample_euler"),
    "euler_ancestral": KSampler("sample_euler_ancestral", stochastic=True),
    "heun": KSampler("sample_heun"),
    "dpm_2": KSampler("sample_dpm_2", discard_penultimate_sigma=True),
    "dpm_2_ancestral": KSampler("sample_dpm_2_ancestral", discard_penultimate_sigma=True, stochastic=True),
    "lms": KSampler("sample_lms"),
    "dpmpp_2m": KSampler("sample_dpmpp_2m"),
    "dpmpp_sde": KSampler("sample_dpmpp_sde", brownian_tree=True, stochastic=True),
    "dpmpp_2m_sde": KSampler("sample_dpmpp_2m_sde", stochastic=True),
}

# Schedules with a k-diffusion / ComfyUI definition this script reproduces (`reference_sigmas`).
REFERENCE_SCHEDULES = ("normal", "karras", "exponential", "sgm_uniform", "simple")

# A1111 names: (ComfyUI sampler, schedule). A1111's "Automatic" schedule for these samplers is ComfyUI's "normal".
A1111_NAMES: dict[str, tuple[str, str]] = {
    "Euler": ("euler", "normal"),
    "Euler a": ("euler_ancestral", "normal"),
    "Heun": ("heun", "normal"),
    "LMS": ("lms", "normal"),
    "LMS Karras": ("lms", "karras"),
    "DPM2": ("dpm_2", "normal"),
    "DPM2 Karras": ("dpm_2", "karras"),
    "DPM2 a": ("dpm_2_ancestral", "normal"),
    "DPM2 a Karras": ("dpm_2_ancestral", "karras"),
    "DPM++ 2M": ("dpmpp_2m", "normal"),
    "DPM++ 2M Karras": ("dpmpp_2m", "karras"),
    "DPM++ SDE": ("dpmpp_sde", "normal"),
    "DPM++ SDE Karras": ("dpmpp_sde", "karras"),
    "DPM++ 2M SDE": ("dpmpp_2m_sde", "normal"),
    "DPM++ 2M SDE Karras": ("dpmpp_2m_sde", "karras"),
}


def parity_names(catalog: Catalog) -> list[tuple[str, str, str]]:
    """(name as users type it, ComfyUI sampler, schedule) for every A1111 name and every ComfyUI combination
    the catalog accepts that has a k-diffusion reference."""
    names = [(name, *meaning) for name, meaning in A1111_NAMES.items()]
    for sampler in catalog.comfyui_samplers:
        if sampler not in K_SAMPLERS:
            continue
        for schedule in REFERENCE_SCHEDULES:
            if schedule in catalog.schedules and catalog.accepts(f"{sampler} {schedule}"):
                names.append((f"{sampler} {schedule}", sampler, schedule))
    return names


# ---------------------------------------------------------------------------------------------------------------
# The reference side


class GuidedEpsUNet(torch.nn.Module):
    """The UNet as an epsilon model with classifier-free guidance, as the pipeline combines it."""

    def __init__(self, unet: Any, prompt_embeds: torch.Tensor, guidance_scale: float) -> None:
        super().__init__()
        self.unet = unet
        self.prompt_embeds = prompt_embeds  # [negative; positive], the pipeline's order
        self.guidance_scale = guidance_scale
        self.calls = 0

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        eps = self.unet(torch.cat([x, x]), torch.cat([t, t]), encoder_hidden_states=self.prompt_embeds).sample
        uncond, cond = eps.chunk(2)
        return uncond + self.guidance_scale * (cond - uncond)


def reference_sigmas(denoiser: Any, schedule: str, steps: int) -> torch.Tensor:
    """The sigma schedule a UI builds for `steps` steps (before any sampler-specific discard)."""
    sampling, _ = k_diffusion()
    sigma_min, sigma_max = float(denoiser.sigma_min), float(denoiser.sigma_max)
    if schedule == "normal":  # A1111 "Automatic", ComfyUI "normal": linspace in t, log-sigma interpolation
        return denoiser.get_sigmas(steps)
    if schedule == "karras":
        return sampling.get_sigmas_karras(steps, sigma_min, sigma_max, rho=7.0)
    if schedule == "exponential":
        return sampling.get_sigmas_exponential(steps, sigma_min, sigma_max)
    t_max = len(denoiser.sigmas) - 1
    if schedule == "sgm_uniform":  # ComfyUI: steps + 1 points of a t linspace, the last replaced by 0
        t = torch.linspace(t_max, 0, steps + 1)[:-1]
        return sampling.append_zero(denoiser.t_to_sigma(t))
    if schedule == "simple":  # ComfyUI: every (1000 / steps)-th training sigma from the top, then 0
        stride = len(denoiser.sigmas) / steps
        picks = [denoiser.sigmas[-(1 + int(i * stride))] for i in range(steps)]
        return sampling.append_zero(torch.stack(picks))
    raise ValueError(f"no reference for schedule {schedule!r}")


def run_reference(
    model: LoadedModel,
    sampler: KSampler,
    schedule: str,
    prompt_embeds: torch.Tensor,
    noise: torch.Tensor,
    seed: int,
    steps: int,
    guidance_scale: float,
    alphas_cumprod: torch.Tensor,
    generator: torch.Generator,
    discard_penultimate_sigma: bool | None = None,
    brownian_tree: bool | None = None,
    sigmas: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(final latent, sigmas) of k-diffusion's sampler; `generator` has drawn the initial noise already.

    `discard_penultimate_sigma`, `brownian_tree` and `sigmas` override the sampler's own habits and the schedule
    (for `diagnose` only)."""
    sampling, external = k_diffusion()
    eps_model = GuidedEpsUNet(model.pipe.unet, prompt_embeds, guidance_scale)
    denoiser = external.DiscreteEpsDDPMDenoiser(eps_model, alphas_cumprod, quantize=False)
    if discard_penultimate_sigma is None:
        discard_penultimate_sigma = sampler.discard_penultimate_sigma
    if brownian_tree is None:
        brownian_tree = sampler.brownian_tree
    if sigmas is not None:
        pass
    elif discard_penultimate_sigma:
        sigmas = reference_sigmas(denoiser, schedule, steps + 1)
        sigmas = torch.cat([sigmas[:-2], sigmas[-1:]])
    else:
        sigmas = reference_sigmas(denoiser, schedule, steps)
    function = getattr(sampling, sampler.function)
    kwargs: dict[str, Any] = {"disable": True}
    if brownian_tree:
        sigma_min, sigma_max = sigmas[sigmas > 0].min(), sigmas.max()
        kwargs["noise_sampler"] = sampling.BrownianTreeNoiseSampler(noise, sigma_min, sigma_max, seed=seed)
    elif sampler.stochastic:
        kwargs["noise_sampler"] = lambda sigma, sigma_next: torch.randn(
            noise.shape, generator=generator, dtype=noise.dtype
        )
    x = noise * sigmas[0]
    latent = function(denoiser, x, sigmas, **kwargs)
    return latent, sigmas


# ---------------------------------------------------------------------------------------------------------------
# The schedlab side


def step_sigmas(scheduler: Any) -> torch.Tensor:
    """The sigma at each step boundary (one per step plus the final one), in k-diffusion's (VE) terms."""
    if not hasattr(scheduler, "sigmas") or scheduler.sigmas is None:  # DDIM, PNDM, DDPM: from alphas_cumprod
        alphas = scheduler.alphas_cumprod[scheduler.timesteps.long()]
        sigmas = ((1 - alphas) / alphas) ** 0.5
        return sigmas
    sigmas = torch.as_tensor(scheduler.sigmas).float().cpu()
    if int(getattr(scheduler, "order", 1)) == 2:  # Heun, KDPM2, DPMSolverSDE repeat each boundary: σ0, σ1, σ1, ...
        sigmas = torch.unique_consecutive(sigmas)
    return sigmas


def run_schedlab(
    model: LoadedModel,
    name: str,
    config: dict[str, Any],
    prompt_embeds: torch.Tensor,
    seed: int,
    steps: int,
    guidance_scale: float,
    catalog: Catalog,
    adjust: Any = None,
) -> tuple[torch.Tensor, torch.Tensor, dict[str, Any]]:
    """(final latent, step sigmas, effective config) of the name resolved and built as the engine does.

    `adjust(scheduler, generator)`, for `diagnose` only, may patch the built scheduler and return initial latents."""
    from service.contract import SchedulerChoice

    resolved = catalog.resolve_choice(SchedulerChoice(name=name, config=config), field="name")
    built = build_scheduler(entry_by_id(resolved.entry.id), model.scheduler_config, resolved.choice, seed, "name")
    generator = torch.Generator("cpu").manual_seed(seed)
    latents = adjust(built.scheduler, generator) if adjust else None
    pipe = model.pipe
    pipe.scheduler = built.scheduler
    negative, positive = prompt_embeds.chunk(2)
    latent = pipe(
        prompt_embeds=positive,
        negative_prompt_embeds=negative,
        num_inference_steps=steps,
        guidance_scale=guidance_scale,
        generator=generator,
        latents=latents,
        output_type="latent",
    ).images
    return latent, step_sigmas(built.scheduler), built.effective_config


# ---------------------------------------------------------------------------------------------------------------
# Measuring


def relative_distance(a: torch.Tensor, reference: torch.Tensor) -> float:
    return float((a.double() - reference.double()).norm() / reference.double().norm())


@torch.no_grad()
def decode(model: LoadedModel, latent: torch.Tensor) -> torch.Tensor:
    vae = model.pipe.vae
    image = vae.decode(latent / vae.config.scaling_factor, return_dict=False)[0]
    return (image.float() / 2 + 0.5).clamp(0, 1)


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float(((a.double() - b.double()) ** 2).mean())
    return math.inf if mse == 0 else 10 * math.log10(1.0 / mse)


@dataclass
class Measurement:
    name: str
    sampler: str
    schedule: str
    reference_sigmas: list[float]
    schedlab_sigmas: list[float]
    max_sigma_difference: float | None
    latent_distance: float  # the largest over seeds
    psnr_db: float  # the smallest over seeds
    effective_config: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sampler": self.sampler,
            "schedule": self.schedule,
            "latent_distance": self.latent_distance,
            "psnr_db": None if math.isinf(self.psnr_db) else round(self.psnr_db, 2),
            "max_sigma_difference": self.max_sigma_difference,
            "reference_sigmas": [round(s, 5) for s in self.reference_sigmas],
            "schedlab_sigmas": [round(s, 5) for s in self.schedlab_sigmas],
            "effective_config": self.effective_config,
        }


@torch.no_grad()
def measure(
    model: LoadedModel,
    name: str,
    sampler_name: str,
    schedule: str,
    seeds: tuple[int, ...] = DEFAULT_SEEDS,
    steps: int = DEFAULT_STEPS,
    guidance_scale: float = DEFAULT_GUIDANCE,
    prompt: str = DEFAULT_PROMPT,
    config: dict[str, Any] | None = None,
    catalog: Catalog | None = None,
) -> Measurement:
    """Reference vs. schedlab for one name, over `seeds` (the worst seed is reported)."""
    catalog = catalog or load_catalog()
    sampler = K_SAMPLERS[sampler_name]
    pipe = model.pipe
    positive, negative = pipe.encode_prompt(prompt, model.device, 1, True, "")
    prompt_embeds = torch.cat([negative, positive])
    alphas_cumprod = _alphas_cumprod(model)
    worst_distance, worst_psnr = 0.0, math.inf
    for seed in seeds:
        latent, schedlab_sigmas, effective = run_schedlab(
            model, name, config or {}, prompt_embeds, seed, steps, guidance_scale, catalog
        )
        # The pipeline's own first draw (`prepare_latents` with this generator), then its per-step noise.
        generator = torch.Generator("cpu").manual_seed(seed)
        noise = torch.randn(latent.shape, generator=generator, dtype=latent.dtype)
        reference, sigmas = run_reference(
            model, sampler, schedule, prompt_embeds, noise, seed, steps, guidance_scale, alphas_cumprod, generator
        )
        worst_distance = max(worst_distance, relative_distance(latent, reference))
        worst_psnr = min(worst_psnr, psnr(decode(model, latent), decode(model, reference)))
    sigma_difference = None
    if len(sigmas) == len(schedlab_sigmas):
        sigma_difference = float((sigmas.double() - schedlab_sigmas.double()).abs().max())
    return Measurement(
        name,
        sampler_name,
        schedule,
        sigmas.tolist(),
        schedlab_sigmas.tolist(),
        sigma_difference,
        worst_distance,
        worst_psnr,
        effective,
    )


def _alphas_cumprod(model: LoadedModel) -> torch.Tensor:
    # The model's training schedule, as the model's own scheduler config defines it (A1111 reads the checkpoint's).
    from diffusers import DDPMScheduler

    return DDPMScheduler.from_config(model.scheduler_config).alphas_cumprod.float()


# ---------------------------------------------------------------------------------------------------------------
# Diagnoses: where a name differs, remove one suspected cause and measure again. If the distance falls to the
# level of the matching names, that cause is the whole difference (and it is what `differs_from_a1111` says).

DIAGNOSES: dict[str, str] = {
    "DPM2": "reference keeps the next-to-last sigma",
    "DPM2 a": "reference keeps the next-to-last sigma",
    "DPM++ SDE": "both sides draw per-step noise from the seed's generator instead of a Brownian tree",
    "DPM++ SDE Karras": "both sides draw per-step noise from the seed's generator instead of a Brownian tree",
    "DPM++ 2M Karras": "schedlab's UNet gets fractional timesteps and starts from sigma_max x noise",
    "DPM++ 2M": "reference runs on schedlab's own sigmas; schedlab starts from sigma_max x noise",
}


@torch.no_grad()
def diagnose(
    model: LoadedModel,
    name: str,
    seeds: tuple[int, ...] = DEFAULT_SEEDS,
    steps: int = DEFAULT_STEPS,
    guidance_scale: float = DEFAULT_GUIDANCE,
    prompt: str = DEFAULT_PROMPT,
) -> float:
    """The worst-seed distance of `name` with the change `DIAGNOSES[name]` describes."""
    catalog = load_catalog()
    sampler_name, schedule = A1111_NAMES[name]
    sampler = K_SAMPLERS[sampler_name]
    positive, negative = model.pipe.encode_prompt(prompt, model.device, 1, True, "")
    prompt_embeds = torch.cat([negative, positive])
    alphas_cumprod = _alphas_cumprod(model)
    worst = 0.0
    for seed in seeds:
        noise = torch.randn((1, 4, *_latent_size(model)), generator=torch.Generator("cpu").manual_seed(seed))
        reference_generator = torch.Generator("cpu").manual_seed(seed)
        reference_generator.set_state(_after_one_draw(seed, noise))
        adjust, reference_options = None, {}
        if name.startswith("DPM2"):
            reference_options = {"discard_penultimate_sigma": False}
        elif name.startswith("DPM++ SDE"):
            reference_options = {"brownian_tree": False}
            adjust = _generator_noise_sampler(noise.shape)
        elif name.startswith("DPM++ 2M"):
            sigma_max = float((((1 - alphas_cumprod) / alphas_cumprod) ** 0.5).max())
            # the VP scale of k-diffusion's start, sigma_max x noise
            start = noise * sigma_max / (sigma_max**2 + 1) ** 0.5
            adjust = _fractional_timesteps(start) if name == "DPM++ 2M Karras" else _start_from(start)
        latent, schedlab_sigmas, _ = run_schedlab(
            model, name, {}, prompt_embeds, seed, steps, guidance_scale, catalog, adjust=adjust
        )
        if name == "DPM++ 2M":
            reference_options = {"sigmas": schedlab_sigmas}
        reference, _ = run_reference(
            model,
            sampler,
            schedule,
            prompt_embeds,
            noise,
            seed,
            steps,
            guidance_scale,
            alphas_cumprod,
            reference_generator,
            **reference_options,
        )
        worst = max(worst, relative_distance(latent, reference))
    return worst


def _generator_noise_sampler(shape: torch.Size) -> Any:
    """An `adjust` that makes DPMSolverSDE draw its per-step noise from the pipeline's generator."""

    def adjust(scheduler: Any, generator: torch.Generator) -> None:
        original = scheduler.set_timesteps

        def set_timesteps(*args: Any, **kwargs: Any) -> None:
            original(*args, **kwargs)  # it resets `noise_sampler`
            scheduler.noise_sampler = lambda sigma, sigma_next: torch.randn(shape, generator=generator)

        scheduler.set_timesteps = set_timesteps

    return adjust


def _start_from(initial_latents: torch.Tensor) -> Any:
    """An `adjust` that only sets the pipeline's initial latents."""

    def adjust(scheduler: Any, generator: torch.Generator) -> torch.Tensor:
        return initial_latents

    return adjust


def _fractional_timesteps(initial_latents: torch.Tensor) -> Any:
    """An `adjust` that gives DPMSolverMultistep's UNet the unrounded t of each sigma, from given initial latents."""

    def adjust(scheduler: Any, generator: torch.Generator) -> torch.Tensor:
        original = scheduler.set_timesteps

        def set_timesteps(*args: Any, **kwargs: Any) -> None:
            original(*args, **kwargs)
            alphas = scheduler.alphas_cumprod.double()
            log_sigmas = (((1 - alphas) / alphas) ** 0.5).log().numpy()
            exact = [
                float(scheduler._sigma_to_t(sigma.double().numpy(), log_sigmas)) for sigma in scheduler.sigmas[:-1]
            ]
            scheduler.timesteps = torch.tensor(exact, dtype=torch.float32)

        scheduler.set_timesteps = set_timesteps
        return initial_latents

    return adjust


def _latent_size(model: LoadedModel) -> tuple[int, int]:
    size = int(model.pipe.unet.config.sample_size)
    return size, size


def _after_one_draw(seed: int, noise: torch.Tensor) -> torch.Tensor:
    generator = torch.Generator("cpu").manual_seed(seed)
    torch.randn(noise.shape, generator=generator)
    return generator.get_state()


# ---------------------------------------------------------------------------------------------------------------
# The report

# Names the catalog accepts that have no k-diffusion sampler to compare with: A1111 and ComfyUI run their own
# DDIM / UniPC implementations, and ComfyUI's beta / ddim_uniform schedules are not in k-diffusion 0.1.1.
UNMEASURED_REASON = {
    "ddim": "A1111 and ComfyUI run their own DDIM, not a k-diffusion sampler",
    "uni_pc": "A1111 and ComfyUI run their own UniPC, not a k-diffusion sampler",
    "uni_pc_bh2": "A1111 and ComfyUI run their own UniPC, not a k-diffusion sampler",
    "beta": "ComfyUI's beta schedule is not part of k-diffusion 0.1.1",
    "ddim_uniform": "ComfyUI's ddim_uniform schedule is not part of k-diffusion 0.1.1",
}


def unmeasured_names(catalog: Catalog) -> list[dict[str, str]]:
    rows = []
    for sampler in catalog.comfyui_samplers:
        if sampler not in K_SAMPLERS:
            rows.append({"name": sampler, "reason": UNMEASURED_REASON.get(sampler, "no k-diffusion reference")})
    for schedule in catalog.schedules:
        if schedule not in REFERENCE_SCHEDULES:
            reason = catalog.schedules[schedule].unsupported_reason or UNMEASURED_REASON.get(schedule, "")
            rows.append({"name": f"<sampler> {schedule}", "reason": reason or "no k-diffusion reference"})
    return rows


def search_candidates(class_name: str, schedule: str) -> list[dict[str, Any]]:
    """Diffusers configs worth trying for a name that does not match (`--search`)."""
    import diffusers

    from worker.registry import entry_by_id as _  # noqa: F401  (the registry's import of diffusers, once)

    keys = diffusers.__dict__[class_name].__init__.__code__.co_varnames
    spacings: list[dict[str, Any]] = [{"timestep_spacing": s} for s in ("linspace", "trailing", "leading")]
    if schedule == "karras":
        spacings = [{**c, "use_karras_sigmas": True} for c in spacings]
    if "final_sigmas_type" in keys:
        spacings = [{**c, "final_sigmas_type": f} for c in spacings for f in ("zero", "sigma_min")]
    return spacings


def load(model_name: str, threads: int) -> LoadedModel:
    import tempfile

    from service.settings import Settings
    from worker.model import load_model

    cache = Path(tempfile.gettempdir()) / "schedlab-parity-cache"
    return load_model(Settings(model=model_name, model_cache_dir=cache, device="cpu", torch_threads=threads))


def run(
    models: list[str], seeds: tuple[int, ...], steps: int, guidance: float, search: bool, threads: int
) -> dict[str, Any]:
    catalog = load_catalog()
    names = parity_names(catalog)
    report: dict[str, Any] = {
        "prompt": DEFAULT_PROMPT,
        "steps": steps,
        "guidance_scale": guidance,
        "seeds": list(seeds),
        "tolerance": MATCH_TOLERANCE,
        "k_diffusion": _k_diffusion_version(),
        "models": {},
        "unmeasured": unmeasured_names(catalog),
    }
    for model_name in models:
        model = load(model_name, threads)
        rows = []
        for name, sampler, schedule in names:
            started = time.perf_counter()
            measurement = measure(model, name, sampler, schedule, seeds, steps, guidance, catalog=catalog)
            row = measurement.as_dict()
            resolved = catalog.resolve_choice(_choice(name))
            row["kind"] = "a1111" if name in A1111_NAMES else "comfyui"
            row["entry"] = resolved.entry.id
            row["config"] = resolved.choice.config
            row["differs_from_a1111"] = resolved.entry.differs_from_a1111 if not resolved.choice.config else None
            if model_name == "demo" and name in DIAGNOSES:
                row["diagnosis"] = {"change": DIAGNOSES[name], "latent_distance": diagnose(model, name, seeds, steps)}
            if (
                search
                and model_name == "demo"
                and name in A1111_NAMES
                and measurement.latent_distance > MATCH_TOLERANCE
            ):
                row["search"] = _search(
                    model, name, sampler, schedule, resolved.entry.class_name, seeds, steps, guidance
                )
            rows.append(row)
            print(
                f"{model_name:5s} {name:24s} -> {row['entry']:20s} distance {measurement.latent_distance:9.2e}  "
                f"PSNR {measurement.psnr_db:6.1f} dB  max |dsigma| {measurement.max_sigma_difference}  "
                f"({time.perf_counter() - started:.1f} s)",
                flush=True,
            )
        report["models"][model_name] = rows
    return report


def _search(
    model: LoadedModel,
    name: str,
    sampler: str,
    schedule: str,
    class_name: str,
    seeds: tuple[int, ...],
    steps: int,
    guidance: float,
) -> list[dict[str, Any]]:
    tried = []
    for config in search_candidates(class_name, schedule):
        try:
            found = measure(model, name, sampler, schedule, seeds, steps, guidance, config=config)
        except Exception as error:  # a combination the class rejects
            tried.append({"config": config, "error": str(error)[:200]})
            continue
        tried.append({"config": config, "latent_distance": found.latent_distance})
    return sorted(tried, key=lambda t: t.get("latent_distance", math.inf))[:3]


def _choice(name: str) -> Any:
    from service.contract import SchedulerChoice

    return SchedulerChoice(name=name)


def _k_diffusion_version() -> str | None:
    from importlib import metadata

    try:
        return metadata.version("k-diffusion")
    except metadata.PackageNotFoundError:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="demo,tiny", help="comma-separated: demo, tiny")
    parser.add_argument("--seeds", default=",".join(map(str, DEFAULT_SEEDS)))
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    parser.add_argument("--guidance", type=float, default=DEFAULT_GUIDANCE)
    parser.add_argument("--search", action="store_true", help="also try candidate configs for names that differ")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/data/parity.json alone")
    args = parser.parse_args()
    import warnings

    warnings.filterwarnings("ignore", message="Should have t")  # torchsde's float tolerance notes
    torch.set_num_threads(args.threads)
    seeds = tuple(int(s) for s in args.seeds.split(","))
    report = run(args.models.split(","), seeds, args.steps, args.guidance, args.search, args.threads)
    if args.no_write:
        return
    from benchmarks.results import write_result

    path = write_result("parity", report)
    print(f"wrote {path.relative_to(REPO)}; re-render the README with `python benchmarks/results.py`")


if __name__ == "__main__":
    main()
