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


def psnr(a: Image.Image, b: Image.Image) -> float:
    """Peak signal-to-noise ratio of two 8-bit images in dB; identical images give +inf (reported as 100)."""
    x = np.asarray(a.convert("RGB"), dtype=np.float64)
    y = np.asarray(b.convert("RGB"), dtype=np.float64)
    mse = float(((x - y) ** 2).mean())
    return 100.0 if mse == 0 else 10 * math.log10(255.0**2 / mse)


def similarity_matrix(finals: Sequence[Sequence[Image.Image]]) -> list[list[float]]:
    """PSNR between schedulers' final images, image i against image i, averaged over images."""
    size = len(finals)
    matrix = [[100.0] * size for _ in range(size)]
    for i in range(size):
        for j in range(i + 1, size):
            pairs = list(zip(finals[i], finals[j], strict=True))
            value = round(sum(psnr(a, b) for a, b in pairs) / len(pairs), 3)
            matrix[i][j] = matrix[j][i] = value
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
