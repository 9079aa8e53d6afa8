"""Model families: everything that differs between SD 1.x/2.x, SDXL, SD 3 and Flux, in one place.

The engine runs one linear path for every model; where the families differ it asks the model's `Family`:
which diffusers pipeline loads it, the dtype on CUDA, how the prompt is encoded once per job and handed to the
pipeline, which latents a frame shows (Flux packs its latents into a token sequence), how latents become pixels
exactly as the pipeline's own `__call__` decodes them, and what x0 a scheduler step implies.

Quirks and where they are handled:
- Flux's packed latents (B, tokens, 64): `FluxFamily.to_spatial` unpacks them with the pipeline's own helper
  before any decode, frame or preview.
- SD 3's and Flux's `encode_prompt` repeat embeddings per image only when they encode the text themselves: the
  job encodes with `num_images_per_prompt = num_images` and calls the pipeline with 1
  (`PromptEmbeds.images_per_prompt`); SD and SDXL repeat given embeddings, so they are encoded once.
- SD 3 / Flux decode `latents / scaling_factor + shift_factor`; SDXL may denormalize with `latents_mean/std`.
- SDXL's fp16 VAE overflows: with `force_upcast` the pipeline upcasts it to fp32 for each decode; we keep it in
  fp32 from load time (`SDXLFamily.prepare`), which decodes the same way without flipping dtypes per frame.
- x0 of flow-matching schedulers: x0 = x_t − σ·v with the σ the step used (`predicted_x0`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch
from PIL import Image

from service.contract import ComparisonSpec


@dataclass
class PromptEmbeds:
    """The prompt, encoded once per job: keyword arguments for the pipeline's `__call__`."""

    kwargs: dict[str, torch.Tensor]
    images_per_prompt: int  # what to pass as `num_images_per_prompt` with these embeddings


class Family:
    """SD 1.x / 2.x: `StableDiffusionPipeline`, a UNet, one CLIP encoder, 4-channel latents."""

    name: ClassVar[str] = "sd"
    pipeline_class: ClassVar[str] = "StableDiffusionPipeline"
    cuda_dtype: ClassVar[torch.dtype] = torch.float16
    flow_matching: ClassVar[bool] = False
    takes_negative_prompt: ClassVar[bool] = True
    takes_guidance_rescale: ClassVar[bool] = True
    denoiser_name: ClassVar[str] = "unet"

    # -- loading -------------------------------------------------------------------------------------------
    def prepare(self, pipe: Any) -> None:
        """Family-specific adjustments once the pipeline is loaded and placed."""

    def denoiser(self, pipe: Any) -> Any:
        return getattr(pipe, self.denoiser_name)

    def default_size(self, pipe: Any) -> int:
        return int(self.denoiser(pipe).config.sample_size) * int(pipe.vae_scale_factor)

    def size_multiple(self, pipe: Any) -> int:
        return int(pipe.vae_scale_factor)

    def describe(self, pipe: Any, scheduler_config: dict[str, Any]) -> dict[str, Any]:
        prediction = "flow" if self.flow_matching else str(scheduler_config.get("prediction_type", "epsilon"))
        return {
            "family": self.name,
            "pipeline": self.pipeline_class,
            "prediction_type": prediction,
            "latent_channels": int(pipe.vae.config.latent_channels),
        }

    # -- the prompt ----------------------------------------------------------------------------------------
    def do_cfg(self, pipe: Any, guidance_scale: float) -> bool:
        return guidance_scale > 1 and self.denoiser(pipe).config.get("time_cond_proj_dim") is None

    def encode_prompt(self, pipe: Any, spec: ComparisonSpec, device: torch.device) -> PromptEmbeds:
        embeds, negative = pipe.encode_prompt(
            spec.prompt, device, 1, self.do_cfg(pipe, max(spec.guidance_values)), spec.negative_prompt
        )
        return PromptEmbeds({"prompt_embeds": embeds, "negative_prompt_embeds": negative}, spec.num_images)

    # -- latents and pixels --------------------------------------------------------------------------------
    def to_spatial(self, pipe: Any, latents: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """Latents as the pipeline holds them -> (B, C, h, w), still in the pipeline's (scaled) latent space."""
        return latents

    def decode_tensor(self, pipe: Any, latents: torch.Tensor) -> torch.Tensor:
        """Spatial latents -> decoded image tensor in about [-1, 1], as the pipeline's `__call__` decodes."""
        image: torch.Tensor = pipe.vae.decode(latents / pipe.vae.config.scaling_factor, return_dict=False)[0]
        return image

    def decode(self, pipe: Any, latents: torch.Tensor, height: int, width: int) -> list[Image.Image]:
        """Latents as the pipeline holds them -> PIL images, bit-identical to the pipeline's `output_type="pil"`."""
        image = self.decode_tensor(pipe, self.to_spatial(pipe, latents, height, width))
        return list(pipe.image_processor.postprocess(image, output_type="pil"))


class StableDiffusionFamily(Family):
    def decode(self, pipe: Any, latents: torch.Tensor, height: int, width: int) -> list[Image.Image]:
        image = self.decode_tensor(pipe, latents)
        image, has_nsfw = pipe.run_safety_checker(image, latents.device, latents.dtype)
        denormalize = [True] * image.shape[0] if has_nsfw is None else [not flagged for flagged in has_nsfw]
        return list(pipe.image_processor.postprocess(image, output_type="pil", do_denormalize=denormalize))


class SDXLFamily(Family):
    """SDXL: two CLIP encoders, pooled embeddings and time ids; same latent format as SD, its own VAE scale."""

    name = "sdxl"
    pipeline_class = "StableDiffusionXLPipeline"

    def prepare(self, pipe: Any) -> None:
        if pipe.vae.dtype == torch.float16 and pipe.vae.config.force_upcast:
            pipe.vae.to(torch.float32)

    def encode_prompt(self, pipe: Any, spec: ComparisonSpec, device: torch.device) -> PromptEmbeds:
        embeds, negative, pooled, negative_pooled = pipe.encode_prompt(
            spec.prompt,
            device=device,
            num_images_per_prompt=1,
            do_classifier_free_guidance=self.do_cfg(pipe, max(spec.guidance_values)),
            negative_prompt=spec.negative_prompt,
        )
        kwargs = {
            "prompt_embeds": embeds,
            "negative_prompt_embeds": negative,
            "pooled_prompt_embeds": pooled,
            "negative_pooled_prompt_embeds": negative_pooled,
        }
        return PromptEmbeds(kwargs, spec.num_images)

    def decode_tensor(self, pipe: Any, latents: torch.Tensor) -> torch.Tensor:
        vae = pipe.vae
        latents = latents.to(vae.dtype)
        mean, std = getattr(vae.config, "latents_mean", None), getattr(vae.config, "latents_std", None)
        if mean is not None and std is not None:
            channels = latents.shape[1]
            mean_t = torch.tensor(mean).view(1, channels, 1, 1).to(latents.device, latents.dtype)
            std_t = torch.tensor(std).view(1, channels, 1, 1).to(latents.device, latents.dtype)
            latents = latents * std_t / vae.config.scaling_factor + mean_t
        else:
            latents = latents / vae.config.scaling_factor
        image: torch.Tensor = vae.decode(latents, return_dict=False)[0]
        return image

    def decode(self, pipe: Any, latents: torch.Tensor, height: int, width: int) -> list[Image.Image]:
        image = self.decode_tensor(pipe, latents)
        if getattr(pipe, "watermark", None) is not None:
            image = pipe.watermark.apply_watermark(image)
        return list(pipe.image_processor.postprocess(image, output_type="pil"))


class SD3Family(Family):
    """SD 3 / 3.5: an MMDiT transformer, two CLIPs + T5, 16-channel latents, flow matching."""

    name = "sd3"
    pipeline_class = "StableDiffusion3Pipeline"
    cuda_dtype = torch.bfloat16
    flow_matching = True
    takes_guidance_rescale = False
    denoiser_name = "transformer"

    def size_multiple(self, pipe: Any) -> int:
        return int(pipe.vae_scale_factor) * int(pipe.transformer.config.patch_size)

    def do_cfg(self, pipe: Any, guidance_scale: float) -> bool:
        return guidance_scale > 1

    def encode_prompt(self, pipe: Any, spec: ComparisonSpec, device: torch.device) -> PromptEmbeds:
        # Like Flux, SD 3 repeats embeddings per image only when it encodes the text itself.
        embeds, negative, pooled, negative_pooled = pipe.encode_prompt(
            spec.prompt,
            None,
            None,
            device=device,
            num_images_per_prompt=spec.num_images,
            do_classifier_free_guidance=self.do_cfg(pipe, max(spec.guidance_values)),
            negative_prompt=spec.negative_prompt,
        )
        kwargs = {
            "prompt_embeds": embeds,
            "negative_prompt_embeds": negative,
            "pooled_prompt_embeds": pooled,
            "negative_pooled_prompt_embeds": negative_pooled,
        }
        return PromptEmbeds(kwargs, 1)

    def decode_tensor(self, pipe: Any, latents: torch.Tensor) -> torch.Tensor:
        vae = pipe.vae
        image: torch.Tensor = vae.decode(
            (latents / vae.config.scaling_factor) + vae.config.shift_factor, return_dict=False
        )[0]
        return image


class FluxFamily(SD3Family):
    """Flux: a guidance-distilled transformer over packed 2x2 patches of 16-channel latents; CLIP + T5."""

    name = "flux"
    pipeline_class = "FluxPipeline"
    takes_negative_prompt = False  # guidance is an input of the distilled model, not a second pass

    def default_size(self, pipe: Any) -> int:
        return int(pipe.default_sample_size) * int(pipe.vae_scale_factor)

    def size_multiple(self, pipe: Any) -> int:
        return int(pipe.vae_scale_factor) * 2

    def do_cfg(self, pipe: Any, guidance_scale: float) -> bool:
        return False

    def encode_prompt(self, pipe: Any, spec: ComparisonSpec, device: torch.device) -> PromptEmbeds:
        # Flux repeats embeddings per image only when it encodes the text itself: encode them for every image
        # here and call the pipeline with one image per prompt, which draws the same latents.
        embeds, pooled, _text_ids = pipe.encode_prompt(
            spec.prompt, None, device=device, num_images_per_prompt=spec.num_images
        )
        return PromptEmbeds({"prompt_embeds": embeds, "pooled_prompt_embeds": pooled}, 1)

    def to_spatial(self, pipe: Any, latents: torch.Tensor, height: int, width: int) -> torch.Tensor:
        if latents.ndim == 4:
            return latents
        unpacked: torch.Tensor = pipe._unpack_latents(latents, height, width, pipe.vae_scale_factor)
        return unpacked


FAMILIES: dict[str, Family] = {
    family.pipeline_class: family for family in (StableDiffusionFamily(), SDXLFamily(), SD3Family(), FluxFamily())
}


class UnsupportedModelError(ValueError):
    pass


def family_of(model_index: dict[str, Any]) -> Family:
    """The family of a diffusers model, from its `model_index.json` (`_class_name`)."""
    class_name = str(model_index.get("_class_name"))
    if class_name not in FAMILIES:
        supported = ", ".join(FAMILIES)
        raise UnsupportedModelError(f"schedlab runs {supported}; this model is a {class_name}")
    return FAMILIES[class_name]


def read_model_index(source: str, revision: str | None) -> dict[str, Any]:
    """`model_index.json` of a local directory or a Hub repository (only that file is downloaded)."""
    path = Path(source)
    if path.is_dir():
        return dict(json.loads((path / "model_index.json").read_text()))
    from diffusers import DiffusionPipeline

    return dict(DiffusionPipeline.load_config(source, revision=revision))


# ---------------------------------------------------------------------------------------------------------------
# x0 from a scheduler step


def predicted_x0(scheduler: Any, model_output: torch.Tensor, timestep: Any, sample: torch.Tensor) -> torch.Tensor:
    """The clean-sample prediction implied by a `step()` that has just run and returned no `pred_original_sample`.

    Every scheduler advances `step_index` by one per call, so the noise level the step used is at
    `step_index - 1`. Flow matching (FlowMatch* schedulers, and DPM-Solver/UniPC/DEIS with flow sigmas):
    x_t = (1 − σ)·x0 + σ·ε and the model predicts v = ε − x0, so x0 = x_t − σ·v.
    """
    config = scheduler.config
    if type(scheduler).__name__.startswith("FlowMatch"):
        sigma = scheduler.sigmas[scheduler.step_index - 1]
        return sample - torch.as_tensor(sigma, dtype=sample.dtype, device=sample.device) * model_output
    if hasattr(scheduler, "_sigma_to_alpha_sigma_t") and scheduler.step_index is not None:
        # DPM-Solver family: `step` has just advanced step_index past the noise level it used.
        alpha_t, sigma_t = scheduler._sigma_to_alpha_sigma_t(scheduler.sigmas[scheduler.step_index - 1])
    else:
        alpha_prod = scheduler.alphas_cumprod[int(timestep)]
        alpha_t, sigma_t = alpha_prod**0.5, (1 - alpha_prod) ** 0.5
    alpha_t = torch.as_tensor(alpha_t, dtype=sample.dtype, device=sample.device)
    sigma_t = torch.as_tensor(sigma_t, dtype=sample.dtype, device=sample.device)
    prediction = config.prediction_type
    if prediction == "epsilon":
        return (sample - sigma_t * model_output) / alpha_t
    if prediction == "v_prediction":
        return alpha_t * sample - sigma_t * model_output
    if prediction == "flow_prediction":
        return sample - sigma_t * model_output
    return model_output  # "sample": the model predicts x0 itself
