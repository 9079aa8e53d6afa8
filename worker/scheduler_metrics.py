"""Numbers that say how schedulers differ: convergence of x0 predictions, emergence step, final-image similarity."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image

# The x0 prediction has "emerged" once its relative latent distance to the final latent stays below this.
EMERGENCE_THRESHOLD = 0.25


def relative_distance(x0: torch.Tensor, final: torch.Tensor) -> float:
    """Per-image ||x0 - final|| / ||final|| in latent space, averaged over the batch."""
    x0, final = x0.float().flatten(1), final.float().flatten(1)
    per_image = (x0 - final).norm(dim=1) / final.norm(dim=1).clamp_min(1e-8)
    return float(per_image.mean())


def emergence_step(curve: Sequence[tuple[int, float]], threshold: float = EMERGENCE_THRESHOLD) -> int | None:
    """The first captured step after which the distance stays below `threshold` (None if it never does)."""
    emerged: int | None = None
    for step, distance in curve:
        below = distance < threshold
        emerged = (emerged or step) if below else None
    return emerged


def mean_squared_error(a: Image.Image, b: Image.Image) -> float:
    """Mean squared difference of two images' 8-bit RGB values."""
    x = np.asarray(a.convert("RGB"), dtype=np.float64)
    y = np.asarray(b.convert("RGB"), dtype=np.float64)
    return float(((x - y) ** 2).mean())


def psnr_from_mse(mse: float) -> float:
    """10 log10(255^2 / MSE) in dB; +inf for identical images (MSE 0)."""
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def psnr(a: Image.Image, b: Image.Image) -> float:
    """Peak signal-to-noise ratio of two 8-bit images in dB; identical images give +inf."""
    return psnr_from_mse(mean_squared_error(a, b))


SIMILARITY_RULE = (
    "psnr_db = 10 log10(255^2 / MSE) of the final images, where MSE is the mean over image pairs (image i of one "
    "scheduler against image i of the other) of the mean squared 8-bit RGB difference; averaging MSE, not dB, "
    "keeps the figure a PSNR. null = every pair identical (infinite PSNR), as on the diagonal"
)


def similarity_matrix(finals: Sequence[Sequence[Image.Image]]) -> list[list[float | None]]:
    """Pairwise PSNR of schedulers' final images by `SIMILARITY_RULE`; None where the images are identical."""
    size = len(finals)
    matrix: list[list[float | None]] = [[None] * size for _ in range(size)]
    for i in range(size):
        for j in range(i + 1, size):
            pairs = list(zip(finals[i], finals[j], strict=True))
            mse = sum(mean_squared_error(a, b) for a, b in pairs) / len(pairs)
            matrix[i][j] = matrix[j][i] = None if mse == 0 else round(psnr_from_mse(mse), 3)
    return matrix


def pixel_rmse(images: Sequence[Image.Image], references: Sequence[Image.Image]) -> list[float]:
    """Root-mean-square pixel difference (pixels in [0, 1]) of image i to reference i, per image."""
    values = []
    for image, reference in zip(images, references, strict=True):
        x = np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0
        y = np.asarray(reference.convert("RGB"), dtype=np.float64) / 255.0
        values.append(math.sqrt(float(((x - y) ** 2).mean())))
    return values


def relative_distances(latents: torch.Tensor, references: torch.Tensor) -> list[float]:
    """Per image ||latent - reference|| / ||reference||."""
    x, y = latents.float().flatten(1), references.float().flatten(1)
    return [float(v) for v in (x - y).norm(dim=1) / y.norm(dim=1).clamp_min(1e-8)]
