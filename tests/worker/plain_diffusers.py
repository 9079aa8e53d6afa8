"""The independent path the exactness tests compare with: plain diffusers, used the way its documentation says.

Nothing here imports schedlab's worker code. Schedulers are built as a user would build them,
`Cls.from_config(pipe.scheduler.config, **documented preset)`, where the documented preset is the catalog's
`preset_config` (what `GET /v1/schedulers` and the README publish); frames are the pipeline's own callback
latents; x0 is each scheduler's own computation of it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import diffusers
import torch
from diffusers import StableDiffusionPipeline
from PIL import Image

from worker.families import StableDiffusionFamily
from worker.pipeline_files import SD15_SCHEDULER_CONFIG
from worker.registry import model_catalog

PROMPT = "a red circle on a black background"
# The documented catalog of an SD 1.x model (what `GET /v1/schedulers?model=...` lists for the tiny model).
SD1_CATALOG = model_catalog(StableDiffusionFamily(), {"_class_name": "PNDMScheduler", **SD15_SCHEDULER_CONFIG})

# Schedulers whose `convert_model_output` returns the noise prediction rather than x0, for these configs.
_EPSILON_FORM_ALGORITHMS = {"deis", "dpmsolver", "sde-dpmsolver"}


def user_scheduler(pipe: StableDiffusionPipeline, entry_id: str, seed: int, **overrides: Any) -> Any:
    """The scheduler a user builds from the README: the class, the model's config, the documented preset.

    DPMSolverSDE is the one documented exception: it draws its noise from a Brownian tree seeded by
    `noise_sampler_seed` and ignores the pipeline's generator, so a user must pass the seed to reproduce a job.
    """
    entry = next(e for e in SD1_CATALOG.entries if e.id == entry_id)
    config = {**entry.preset_config, **overrides}
    if entry.class_name == "DPMSolverSDEScheduler":
        config.setdefault("noise_sampler_seed", seed)
    return getattr(diffusers, entry.class_name).from_config(pipe.scheduler.config, **config)


def call_of_each_step(scheduler: Any, steps: int) -> dict[int, int]:
    """Step k -> the index of the UNet call after which scheduler step k is complete.

    Worked out from the scheduler's own timesteps and order after `set_timesteps`, as the pipeline's progress bar
    does: the last `steps * order` calls are the steps' calls (earlier ones are warm-up, e.g. PNDM's repeated
    second timestep), a step completes at every `order`-th of them, and the last call always completes the last step.
    """
    calls = len(scheduler.timesteps)
    warmup = calls - steps * scheduler.order
    completing = [i for i in range(calls) if i == calls - 1 or (i + 1 > warmup and (i + 1) % scheduler.order == 0)]
    assert len(completing) == steps, (type(scheduler).__name__, calls, scheduler.order, completing)
    return {k + 1: call for k, call in enumerate(completing)}


def own_x0(scheduler: Any, model_output: torch.Tensor, timestep: Any, sample: torch.Tensor) -> torch.Tensor | None:
    """x0 by the scheduler's own `convert_model_output` (DPM-Solver, UniPC, DEIS), before it steps; else None."""
    if not hasattr(scheduler, "convert_model_output"):
        return None
    if scheduler.step_index is None:
        scheduler._init_step_index(timestep)
    converted = scheduler.convert_model_output(model_output, sample=sample)
    algorithm = getattr(scheduler.config, "algorithm_type", None)
    returns_epsilon = algorithm in _EPSILON_FORM_ALGORITHMS or getattr(scheduler, "predict_x0", True) is False
    if not returns_epsilon:
        return converted
    alpha_t, sigma_t = scheduler._sigma_to_alpha_sigma_t(scheduler.sigmas[scheduler.step_index])
    return (sample - sigma_t * converted) / alpha_t


def closed_form_x0(scheduler: Any, model_output: torch.Tensor, timestep: Any, sample: torch.Tensor) -> torch.Tensor:
    """x0 from the DDPM forward process x_t = sqrt(a) x0 + sqrt(1 - a) eps, a = alphas_cumprod[t]."""
    alpha_prod = scheduler.alphas_cumprod[int(timestep)]
    if scheduler.config.prediction_type == "epsilon":
        return (sample - (1 - alpha_prod) ** 0.5 * model_output) / alpha_prod**0.5
    assert scheduler.config.prediction_type == "v_prediction"
    return alpha_prod**0.5 * sample - (1 - alpha_prod) ** 0.5 * model_output


def reference_x0(scheduler: Any, model_output: torch.Tensor, timestep: Any, sample: torch.Tensor, output: Any) -> Any:
    """The scheduler's own x0 where it has one (`pred_original_sample`), else the closed form."""
    x0 = getattr(output, "pred_original_sample", None)
    return x0 if x0 is not None else closed_form_x0(scheduler, model_output, timestep, sample)


def record_x0(scheduler: Any, into: list[torch.Tensor]) -> None:
    """Append each call's x0, computed the scheduler's own way, to `into` (wrapping the instance's `step`)."""
    original = scheduler.step

    @functools.wraps(original)  # the pipeline reads step's signature to decide whether to pass `generator`
    def step(model_output: torch.Tensor, timestep: Any, sample: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        return_dict = kwargs.pop("return_dict", True)
        converted = own_x0(scheduler, model_output, timestep, sample)
        output = original(model_output, timestep, sample, *args, return_dict=True, **kwargs)
        x0 = converted if converted is not None else reference_x0(scheduler, model_output, timestep, sample, output)
        into.append(x0.detach().clone())
        return output if return_dict else (output.prev_sample,)

    scheduler.step = step


@dataclass
class PlainRun:
    scheduler: Any
    latents_by_call: list[torch.Tensor] = field(default_factory=list)
    x0_by_call: list[torch.Tensor] = field(default_factory=list)
    final_latents: torch.Tensor | None = None


def plain_run(
    pipe: StableDiffusionPipeline,
    scheduler: Any,
    *,
    steps: int,
    seed: int,
    num_images: int,
    guidance_scale: float,
    prompt: str = PROMPT,
) -> PlainRun:
    """`pipe(prompt, generator=[seed + i ...])` with `scheduler`, keeping every call's latents and x0."""
    run = PlainRun(scheduler)
    record_x0(scheduler, run.x0_by_call)

    def keep_latents(pipeline: Any, call: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        run.latents_by_call.append(tensors["latents"].detach().clone())
        return tensors

    loaded = pipe.scheduler
    pipe.scheduler = scheduler
    try:
        run.final_latents = pipe(
            prompt,
            num_inference_steps=steps,
            guidance_scale=guidance_scale,
            num_images_per_prompt=num_images,
            generator=[torch.Generator("cpu").manual_seed(seed + i) for i in range(num_images)],
            output_type="latent",
            callback_on_step_end=keep_latents,
        ).images
    finally:
        pipe.scheduler = loaded
    return run


@torch.no_grad()
def decode(pipe: StableDiffusionPipeline, latents: torch.Tensor) -> list[Image.Image]:
    """The pipeline's own decode (`StableDiffusionPipeline.__call__` after the loop), to PIL."""
    image = pipe.vae.decode(latents / pipe.vae.config.scaling_factor, return_dict=False)[0]
    return list(pipe.image_processor.postprocess(image, output_type="pil"))


def user_images(
    pipe: StableDiffusionPipeline, scheduler: Any, *, steps: int, seed: int, num_images: int, guidance_scale: float
) -> list[Image.Image]:
    """Final images exactly as a user gets them: `pipe(prompt, generator=[...]).images`."""
    loaded = pipe.scheduler
    pipe.scheduler = scheduler
    try:
        return list(
            pipe(
                PROMPT,
                num_inference_steps=steps,
                guidance_scale=guidance_scale,
                num_images_per_prompt=num_images,
                generator=[torch.Generator("cpu").manual_seed(seed + i) for i in range(num_images)],
            ).images
        )
    finally:
        pipe.scheduler = loaded
