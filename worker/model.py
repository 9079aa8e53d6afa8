"""Loading the model: once per process, through `StableDiffusionPipeline.from_pretrained`, whatever its source."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from diffusers import StableDiffusionPipeline

from service.settings import Settings
from worker.demo_model import DEMO_MODEL_DIR, DEMO_MODEL_ID
from worker.sd15_random import SD15_RANDOM_ID, ensure_sd15_random
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
    source: str  # "sd15" (published factors) or "fit" (least squares against VAE decodes at load)
    fit_rmse: float | None = None


@dataclass
class LoadedModel:
    # A StableDiffusionPipeline; diffusers declares a pipeline's components at run time, so typed as Any.
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

    @property
    def vae_scale_factor(self) -> int:
        return int(self.pipe.vae_scale_factor)

    @property
    def default_size(self) -> int:
        return int(self.pipe.unet.config.sample_size) * self.vae_scale_factor

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.model_id,
            "revision": self.revision,
            "device": str(self.device),
            "dtype": str(self.dtype).removeprefix("torch."),
            "default_size": self.default_size,
            "approx_decoder": {"source": self.approx.source, "fit_rmse": self.approx.fit_rmse},
            **self.info,
        }


def resolve_device(setting: str) -> torch.device:
    if setting == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    device = torch.device(setting)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda:0")
    return device


def resolve_dtype(setting: str, device: torch.device) -> torch.dtype:
    if setting == "auto":
        return torch.float16 if device.type == "cuda" else torch.float32
    return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[setting]


def load_model(settings: Settings) -> LoadedModel:
    """Load the model named by `settings.model` onto the configured device, ready for comparisons."""
    if settings.torch_threads:
        torch.set_num_threads(settings.torch_threads)
    device = resolve_device(settings.device)
    dtype = resolve_dtype(settings.dtype, device)
    source, model_id, revision = _locate(settings, device)
    logger.info("loading model %s (revision %s) on %s as %s", model_id, revision, device, dtype)
    pipe = StableDiffusionPipeline.from_pretrained(
        source, revision=None if Path(source).is_dir() else revision, dtype=dtype, use_safetensors=True
    )
    pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    # SDPA is diffusers' default attention; attention slicing would replace it with something slower, so never.
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        if settings.compile_unet:
            pipe.unet = torch.compile(pipe.unet)
    if revision is None:
        revision = getattr(pipe.config, "_commit_hash", None) or _fingerprint(Path(source))
    approx = _approx_projection(pipe, settings.approx_decoder)
    return LoadedModel(
        pipe, model_id, revision, device, dtype, approx, dict(pipe.scheduler.config), {"source": str(source)}
    )


def _locate(settings: Settings, device: torch.device) -> tuple[str, str, str | None]:
    """(what to pass to from_pretrained, the model's id for the manifest, the revision if known)."""
    if settings.model == "sd15-random":
        directory = ensure_sd15_random(Path(settings.model_cache_dir), device)
        return str(directory), SD15_RANDOM_ID, None
    if settings.model == "tiny":
        directory = ensure_tiny_model(Path(settings.model_cache_dir))
        return str(directory), TINY_MODEL_ID, None
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


def _approx_projection(pipe: Any, setting: str) -> ApproxProjection:
    vae_config = pipe.vae.config
    is_sd1 = all(
        list(getattr(vae_config, key)) == value if isinstance(value, list) else getattr(vae_config, key) == value
        for key, value in _SD1_VAE_SIGNATURE.items()
    )
    if setting == "sd15" or (setting == "auto" and is_sd1):
        return ApproxProjection(SD15_LATENT_RGB_FACTORS, [0.0, 0.0, 0.0], "sd15")
    return fit_approx_projection(pipe)


@torch.no_grad()
def fit_approx_projection(pipe: Any, samples: int = 4, seed: int = 0) -> ApproxProjection:
    """Fit the 4x3 matrix and bias by least squares against VAE decodes of seeded random latents."""
    vae = pipe.vae
    size = int(pipe.unet.config.sample_size)
    channels = int(vae.config.latent_channels)
    generator = torch.Generator().manual_seed(seed)
    latents = torch.randn((samples, channels, size, size), generator=generator)
    decoded = (
        vae.decode((latents / vae.config.scaling_factor).to(vae.device, vae.dtype), return_dict=False)[0].float().cpu()
    )
    pooled = torch.nn.functional.avg_pool2d(decoded, kernel_size=pipe.vae_scale_factor)
    inputs = torch.cat([latents, torch.ones(samples, 1, size, size)], dim=1)
    x = inputs.permute(0, 2, 3, 1).reshape(-1, channels + 1).double()
    y = pooled.permute(0, 2, 3, 1).reshape(-1, 3).double()
    solution = torch.linalg.lstsq(x, y).solution
    rmse = float(((x @ solution - y) ** 2).mean().sqrt())
    return ApproxProjection(solution[:channels].tolist(), solution[channels].tolist(), "fit", round(rmse, 6))
