"""Loading the model: once per process, through its family's diffusers pipeline `from_pretrained`, whatever its source.

The family (SD 1.x/2.x, SDXL, SD 3, Flux) comes from the model's `model_index.json`; `worker.families` holds what
differs between them. A `LoadedModel` carries what comes with the model: its scheduler config, its approximate
latent -> RGB projection, and its quality scorer where it ships one (the demo model's checker).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import diffusers
import torch
from PIL import Image

from service.contract import Catalog, ModelInfo
from service.settings import Settings
from worker.demo_model import DEMO_MODEL_DIR, DEMO_MODEL_ID, checker
from worker.families import Family, StableDiffusionFamily, family_of, read_model_index
from worker.registry import model_catalog
from worker.sd15_random import SD15_RANDOM_ID, ensure_sd15_random
from worker.tiny_families import TINY_FAMILIES, ensure_tiny_family
from worker.tiny_model import TINY_MODEL_ID, ensure_tiny_model

logger = logging.getLogger(__name__)

# ComfyUI's SD 1.x latent -> RGB factors (rows: latent channels; columns: R, G, B); output in about [-1, 1].
SD15_LATENT_RGB_FACTORS = [
    [0.3512, 0.2297, 0.3227],
    [0.3250, 0.4974, 0.2350],
    [-0.2829, 0.1762, 0.2721],
    [-0.2120, -0.2616, -0.7177],
]
_SD1_VAE_SIGNATURE = {
    "latent_channels": 4,
    "scaling_factor": 0.18215,
    "block_out_channels": [128, 256, 512, 512],
}


@dataclass
class ApproxProjection:
    """A linear latent -> RGB map: `rgb = latent @ matrix + bias`, in [-1, 1]."""

    matrix: list[list[float]]
    bias: list[float]
    source: str  # "sd15" (published factors) or "fit" (least squares against decodes of drawn latents)
    fit_rmse: float | None = None
    heldout_rmse: float | None = None  # on latents drawn from another seed and other prompts
    fitted_on: str | None = None


# What a model's own checker sees in its final images, given their prompts: named shares, e.g. colour_match.
QualityScorer = Callable[[Sequence[Image.Image], Sequence[str]], dict[str, float]]


@dataclass
class LoadedModel:
    # The family's diffusers pipeline; diffusers declares a pipeline's components at run time, so typed as Any.
    pipe: Any
    model_id: str
    revision: str | None
    device: torch.device
    dtype: torch.dtype
    approx: ApproxProjection
    # The model's own scheduler config, kept from load time: the engine swaps `pipe.scheduler` per run, and
    # every scheduler must derive from the model's config, never from the previous run's scheduler.
    scheduler_config: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    family: Family = field(default_factory=StableDiffusionFamily)
    # What the deployment calls this model (SCHEDLAB_MODEL: "tiny-sdxl", a Hub id, a directory); the queue's name.
    name: str = ""
    default_size_override: int | None = None
    # Scores each scheduler's final images (their `quality`); only models that ship a checker have one.
    scorer: QualityScorer | None = None

    @property
    def vae_scale_factor(self) -> int:
        return int(self.pipe.vae_scale_factor)

    @property
    def size_multiple(self) -> int:
        """Height and width must be multiples of this (the VAE's scale, times the transformer's patch)."""
        return self.family.size_multiple(self.pipe)

    @property
    def default_size(self) -> int:
        return self.default_size_override or self.family.default_size(self.pipe)

    def public_info(self) -> ModelInfo:
        return ModelInfo(
            name=self.name or self.model_id,
            id=self.model_id,
            family=self.family.name,
            pipeline=self.family.pipeline_class,
            prediction_type=self.family.describe(self.pipe, self.scheduler_config)["prediction_type"],
            default_size=self.default_size,
            size_multiple=self.size_multiple,
            takes_negative_prompt=self.family.takes_negative_prompt,
        )

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.model_id,
            "revision": self.revision,
            "device": str(self.device),
            "dtype": str(self.dtype).removeprefix("torch."),
            "name": self.name,
            "default_size": self.default_size,
            **self.family.describe(self.pipe, self.scheduler_config),
            "approx_decoder": {
                "source": self.approx.source,
                "fit_rmse": self.approx.fit_rmse,
                "heldout_rmse": self.approx.heldout_rmse,
                "fitted_on": self.approx.fitted_on,
            },
            **self.info,
        }


def resolve_device(setting: str) -> torch.device:
    if setting == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    device = torch.device(setting)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda:0")
    return device


def resolve_dtype(setting: str, device: torch.device, family: Family | None = None) -> torch.dtype:
    """auto: float32 on CPU; on CUDA the family's own (float16 for SD/SDXL, bfloat16 for SD 3/Flux)."""
    if setting == "auto":
        return (family or StableDiffusionFamily()).cuda_dtype if device.type == "cuda" else torch.float32
    return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[setting]


def load_model(settings: Settings) -> LoadedModel:
    """Load the model named by `settings.model` onto the configured device, ready for comparisons."""
    if settings.torch_threads:
        torch.set_num_threads(settings.torch_threads)
    device = resolve_device(settings.device)
    source, model_id, revision = _locate(settings, device)
    local = Path(source).is_dir()
    family = family_of(read_model_index(source, None if local else revision))
    dtype = resolve_dtype(settings.dtype, device, family)
    logger.info("loading %s model %s (revision %s) on %s as %s", family.name, model_id, revision, device, dtype)
    pipeline_class = getattr(diffusers, family.pipeline_class)
    pipe = pipeline_class.from_pretrained(
        source, revision=None if local else revision, dtype=dtype, use_safetensors=True
    )
    if settings.cpu_offload and device.type == "cuda":
        # Each component moves to the GPU for its forward pass only: slower, but SDXL/SD 3/Flux fit smaller GPUs.
        pipe.enable_model_cpu_offload(device=device)
    else:
        pipe.to(device)
    if settings.vae_tiling:
        pipe.vae.enable_tiling()
    family.prepare(pipe)
    pipe.set_progress_bar_config(disable=True)
    # SDPA is diffusers' default attention; attention slicing would replace it with something slower, so never.
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        if settings.compile_unet:
            setattr(pipe, family.denoiser_name, torch.compile(family.denoiser(pipe)))
    if revision is None:
        revision = getattr(pipe.config, "_commit_hash", None) or _fingerprint(Path(source))
    marker = Path(source) / "schedlab-model.json"
    default_size = json.loads(marker.read_text()).get("default_size") if local and marker.exists() else None
    approx = _approx_projection(pipe, settings.approx_decoder, family, default_size)
    info = {"source": str(source), "cpu_offload": bool(settings.cpu_offload and device.type == "cuda")}
    return LoadedModel(
        pipe,
        model_id,
        revision,
        device,
        dtype,
        approx,
        dict(pipe.scheduler.config),
        info,
        family=family,
        name=settings.model,
        default_size_override=default_size,
        scorer=quality_scorer(model_id),
    )


def quality_scorer(model_id: str) -> QualityScorer | None:
    """The demo model comes with its checker: does each image show its prompt's colour and shape?"""
    return checker.score if model_id == DEMO_MODEL_ID else None


def catalog_before_load(settings: Settings) -> Catalog:
    """The scheduler catalog of `settings.model` from its configs alone (model_index.json, scheduler config).

    Lets the CLI refuse what the model cannot run before its weights load; a worker registers the catalog of the
    loaded model instead (`ComparisonEngine.catalog`), which adds the model's sizes.
    """
    source, _, revision = _locate(settings)
    local = Path(source).is_dir()
    family = family_of(read_model_index(source, None if local else revision))
    if local:
        scheduler_config = json.loads((Path(source) / "scheduler" / "scheduler_config.json").read_text())
    else:
        scheduler_config = dict(diffusers.SchedulerMixin.load_config(source, subfolder="scheduler", revision=revision))
    return model_catalog(family, scheduler_config)


def _locate(settings: Settings, device: torch.device | None = None) -> tuple[str, str, str | None]:
    """(what to pass to from_pretrained, the model's id for the manifest, the revision if known)."""
    if settings.model == "sd15-random":
        directory = ensure_sd15_random(Path(settings.model_cache_dir), device or torch.device("cpu"))
        return str(directory), SD15_RANDOM_ID, None
    if settings.model == "tiny":
        directory = ensure_tiny_model(Path(settings.model_cache_dir))
        return str(directory), TINY_MODEL_ID, None
    if settings.model in TINY_FAMILIES:
        directory = ensure_tiny_family(settings.model, Path(settings.model_cache_dir))
        return str(directory), TINY_FAMILIES[settings.model][0], None
    if settings.model == "demo":
        if not (DEMO_MODEL_DIR / "model_index.json").exists():
            raise FileNotFoundError(
                f"the demo model is not at {DEMO_MODEL_DIR}: it ships with a source checkout (models/shapes-sd); "
                "set SCHEDLAB_MODEL to 'tiny', a Hugging Face id or a diffusers directory"
            )
        return str(DEMO_MODEL_DIR), DEMO_MODEL_ID, None
    path = Path(settings.model).expanduser()
    if path.is_dir():
        marker = path / "schedlab-model.json"
        model_id = json.loads(marker.read_text())["model_id"] if marker.exists() else str(path.resolve())
        return str(path), model_id, None
    return settings.model, settings.model, settings.model_revision


def _fingerprint(directory: Path) -> str:
    """A content fingerprint of a local model directory: configs in full, weight files by size and head."""
    digest = hashlib.sha256()
    for file in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(directory)).encode())
        with file.open("rb") as handle:
            digest.update(handle.read(1 << 20))
        digest.update(str(file.stat().st_size).encode())
    return "sha256:" + digest.hexdigest()[:16]


def _approx_projection(
    pipe: Any, setting: str, family: Family | None = None, size: int | None = None
) -> ApproxProjection:
    family = family or StableDiffusionFamily()
    vae_config = pipe.vae.config
    is_sd1 = all(
        list(getattr(vae_config, key)) == value if isinstance(value, list) else getattr(vae_config, key) == value
        for key, value in _SD1_VAE_SIGNATURE.items()
    )
    if setting == "sd15" or (setting == "auto" and is_sd1 and family.name == "sd"):
        return ApproxProjection(SD15_LATENT_RGB_FACTORS, [0.0, 0.0, 0.0], "sd15")
    latent_size = (size or family.default_size(pipe)) // int(pipe.vae_scale_factor)
    return fit_approx_projection(pipe, family, latent_size=min(latent_size, FIT_MAX_LATENT_SIZE))


# Enough drawn images for ~1024 latent pixels (16 at the demo model's 8x8 latents, 4 at SD sizes), a few steps each.
FIT_LATENT_PIXELS = 1024
FIT_MAX_LATENT_SIZE = 64  # drawn latents of at most 64x64 (512x512 pixels at SD's 8x): bigger ones only cost more
FIT_STEPS = 8
FIT_GUIDANCE = 5.0
# Varied colours and scenes: the demo model's own vocabulary first, then prompts any general model draws.
FIT_PROMPTS = (
    "a red circle on a black background",
    "a blue square on a white background",
    "a yellow triangle on a gray background",
    "a green circle on a white background",
    "a white square on a black background",
    "a black triangle on a white background",
    "a lighthouse on a cliff at dusk",
    "a bowl of oranges on a blue table",
)


def fit_sample_count(latent_size: int) -> int:
    """How many images the fit draws at this latent size: enough for `FIT_LATENT_PIXELS`, at least 4."""
    return max(4, -(-FIT_LATENT_PIXELS // (latent_size * latent_size)))


@torch.no_grad()
def fit_approx_projection(
    pipe: Any,
    family: Family | None = None,
    samples: int | None = None,
    seed: int = 0,
    latent_size: int | None = None,
) -> ApproxProjection:
    """Fit the C x 3 matrix and bias by least squares against VAE decodes of latents the model itself draws.

    Previews show the latents of real denoising runs, so the fit uses real ones: the final latents of images the
    model draws from `FIT_PROMPTS` (a few steps of a deterministic solver), in the pipeline's own latent space
    (before the family's scaling and shift), as frames see them. Random N(0, 1) latents are not what a VAE sees:
    a fit on them predicts real decodes far worse. The held-out error is measured the same way on images drawn
    from the next seed with other prompts.
    """
    family = family or StableDiffusionFamily()
    size = latent_size or int(pipe.unet.config.sample_size)
    samples = samples or fit_sample_count(size)
    x, y = _projection_samples(pipe, family, drawn_latents(pipe, family, samples, seed, size))
    solution = torch.linalg.lstsq(x, y).solution
    rmse = float(((x @ solution - y) ** 2).mean().sqrt())
    heldout_x, heldout_y = _projection_samples(pipe, family, drawn_latents(pipe, family, samples, seed + 1, size))
    heldout = float(((heldout_x @ solution - heldout_y) ** 2).mean().sqrt())
    channels = x.shape[1] - 1
    solver = "its flow solver" if family.flow_matching else "DPM-Solver++ 2M"
    fitted_on = (
        f"final latents of {samples} images the model drew ({FIT_STEPS} steps of {solver}, guidance "
        f"{FIT_GUIDANCE}, seeds {seed * 1000}+i); held out: {samples} more from seeds {(seed + 1) * 1000}+i and "
        "other prompts; RMSE in the decoder's [-1, 1] range per colour channel, over each latent pixel's footprint"
    )
    return ApproxProjection(
        solution[:channels].tolist(),
        solution[channels].tolist(),
        "fit",
        round(rmse, 6),
        round(heldout, 6),
        fitted_on,
    )


@torch.no_grad()
def drawn_latents(pipe: Any, family: Family, samples: int, seed: int, size: int) -> torch.Tensor:
    """Final latents (B, C, size, size) of `samples` images the model draws, one seed and prompt per image.

    Noise-prediction models draw with DPM-Solver++ 2M (stable at any guidance on every model we ship: the
    pipeline's own PNDM is not, on the demo model), flow-matching models with their own flow solver.
    """
    own_scheduler = pipe.scheduler
    if not family.flow_matching:
        pipe.scheduler = diffusers.DPMSolverMultistepScheduler.from_config(own_scheduler.config)
    pixels = size * int(pipe.vae_scale_factor)
    try:
        latents = pipe(
            prompt=[FIT_PROMPTS[(seed * 3 + i) % len(FIT_PROMPTS)] for i in range(samples)],
            num_inference_steps=FIT_STEPS,
            guidance_scale=FIT_GUIDANCE,
            generator=[torch.Generator().manual_seed(seed * 1000 + i) for i in range(samples)],
            height=pixels,
            width=pixels,
            output_type="latent",
        ).images
    finally:
        pipe.scheduler = own_scheduler
    spatial: torch.Tensor = family.to_spatial(pipe, latents, pixels, pixels)
    return spatial


@torch.no_grad()
def _projection_samples(pipe: Any, family: Family, latents: torch.Tensor) -> tuple[Any, Any]:
    """(latent pixels with a constant 1 column, the VAE decode's colour averaged over each latent pixel)."""
    samples, channels, height, width = latents.shape
    decoded = family.decode_tensor(pipe, latents).float().cpu()
    pooled = torch.nn.functional.avg_pool2d(decoded, kernel_size=pipe.vae_scale_factor)
    inputs = torch.cat([latents.float().cpu(), torch.ones(samples, 1, height, width)], dim=1)
    x = inputs.permute(0, 2, 3, 1).reshape(-1, channels + 1).double()
    y = pooled.permute(0, 2, 3, 1).reshape(-1, 3).double()
    return x, y
