"""A checker that needs no learned model: what shape, in what colour, does an image show, and does it match?

Torch-free (numpy + PIL). For an image of the demo model's world it estimates the background colour from the
border, takes the largest connected region of pixels closer to the dominant non-background colour than to the
background, names that colour (nearest named colour) and the shape (fill ratio of the region's bounding box:
square ~1.0, circle ~0.785, triangle ~0.5), then compares with what the prompt asks for.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from PIL import Image

from worker.demo_model.shapes import COLOURS, SHAPES

# Fill-ratio boundaries between the kinds. Drawn: triangle ~0.5, circle ~0.785, square 1.0; through the demo
# model's VAE (softer edges, rounded corners) triangles read ~0.55-0.63, circles ~0.73-0.78, squares ~0.93-0.96.
TRIANGLE_MAX_FILL = 0.66
CIRCLE_MAX_FILL = 0.87
# A pixel this far (RGB Euclidean) from the background may belong to the shape.
MIN_CONTRAST = 60.0
# A region smaller than this share of the image is no shape.
MIN_AREA_SHARE = 0.01

_SHAPE_RE = re.compile(r"\b(" + "|".join(COLOURS) + r")\s+(" + "|".join(SHAPES) + r")s?\b", re.IGNORECASE)
_ANY_SHAPE_RE = re.compile(r"\b(" + "|".join(SHAPES) + r")s?\b", re.IGNORECASE)
_ANY_COLOUR_RE = re.compile(r"\b(" + "|".join(COLOURS) + r")\b", re.IGNORECASE)
_BACKGROUND_RE = re.compile(r"\bon\s+(?:an?\s+|the\s+)?(" + "|".join(COLOURS) + r")\s+background\b", re.IGNORECASE)


@dataclass(frozen=True)
class PromptSpec:
    colour: str | None
    shape: str | None
    background: str | None


@dataclass(frozen=True)
class Detection:
    found: bool
    colour: str | None
    shape: str | None
    background: str
    fill_ratio: float
    area_share: float
    bbox: tuple[int, int, int, int] | None  # x0, y0, x1, y1 inclusive


@dataclass(frozen=True)
class CheckResult:
    prompt: PromptSpec
    detection: Detection
    colour_match: bool
    shape_match: bool
    background_match: bool

    @property
    def match(self) -> bool:
        return self.colour_match and self.shape_match

    def to_dict(self) -> dict[str, Any]:
        return {
            "prompt": asdict(self.prompt),
            "detection": asdict(self.detection),
            "colour_match": self.colour_match,
            "shape_match": self.shape_match,
            "background_match": self.background_match,
        }


def parse_prompt(prompt: str) -> PromptSpec:
    """The colour, shape and background a prompt asks for ("a red circle on a black background")."""
    background_m = _BACKGROUND_RE.search(prompt)
    background = background_m.group(1).lower() if background_m else None
    rest = _BACKGROUND_RE.sub(" ", prompt)
    shape_m = _SHAPE_RE.search(rest)
    if shape_m:
        return PromptSpec(shape_m.group(1).lower(), shape_m.group(2).lower(), background)
    any_shape = _ANY_SHAPE_RE.search(rest)
    any_colour = _ANY_COLOUR_RE.search(rest)
    return PromptSpec(
        any_colour.group(1).lower() if any_colour else None,
        any_shape.group(1).lower() if any_shape else None,
        background,
    )


def _as_array(image: Image.Image | np.ndarray) -> np.ndarray:
    if isinstance(image, Image.Image):
        image = np.asarray(image.convert("RGB"))
    array = np.asarray(image)
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 image, got shape {array.shape}")
    if array.dtype != np.uint8:
        # Floats in [0, 1] (a pipeline's output_type="np") or anything else numeric.
        scale = 255.0 if array.dtype.kind == "f" and array.max() <= 1.0 + 1e-6 else 1.0
        array = np.clip(array.astype(np.float64) * scale, 0, 255)
    return array.astype(np.float64)


def nearest_colour(rgb: Iterable[float]) -> str:
    rgb = np.asarray(list(rgb), dtype=np.float64)
    names = list(COLOURS)
    palette = np.array([COLOURS[name] for name in names], dtype=np.float64)
    return names[int(np.argmin(((palette - rgb) ** 2).sum(axis=1)))]


def _largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 4-connected region of `mask` (BFS; images here are small)."""
    height, width = mask.shape
    labels = np.zeros(mask.shape, dtype=np.int32)
    best_label, best_size, label = 0, 0, 0
    for start_y, start_x in zip(*np.nonzero(mask), strict=True):
        if labels[start_y, start_x]:
            continue
        label += 1
        labels[start_y, start_x] = label
        queue, size = deque([(start_y, start_x)]), 0
        while queue:
            y, x = queue.popleft()
            size += 1
            for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                if 0 <= ny < height and 0 <= nx < width and mask[ny, nx] and not labels[ny, nx]:
                    labels[ny, nx] = label
                    queue.append((ny, nx))
        if size > best_size:
            best_label, best_size = label, size
    return labels == best_label if best_size else np.zeros_like(mask)


def classify_fill(fill_ratio: float) -> str:
    if fill_ratio < TRIANGLE_MAX_FILL:
        return "triangle"
    if fill_ratio < CIRCLE_MAX_FILL:
        return "circle"
    return "square"


def detect(image: Image.Image | np.ndarray) -> Detection:
    """Recover the background colour, the shape's colour and its kind from an image."""
    pixels = _as_array(image)
    height, width, _ = pixels.shape
    border = np.concatenate(
        [
            pixels[:2].reshape(-1, 3),
            pixels[-2:].reshape(-1, 3),
            pixels[:, :2].reshape(-1, 3),
            pixels[:, -2:].reshape(-1, 3),
        ]
    )
    background_rgb = np.median(border, axis=0)
    background = nearest_colour(background_rgb)
    distance = np.sqrt(((pixels - background_rgb) ** 2).sum(axis=2))
    candidates = distance > MIN_CONTRAST
    if candidates.sum() < MIN_AREA_SHARE * height * width:
        return Detection(False, None, None, background, 0.0, float(candidates.mean()), None)
    # The shape's colour: the median of the candidates farthest from the background (its core, not its edges).
    core = candidates & (distance >= np.median(distance[candidates]))
    shape_rgb = np.median(pixels[core], axis=0)
    # Soft membership: where each pixel lies on the segment background -> shape colour.
    axis = shape_rgb - background_rgb
    alpha = np.clip(((pixels - background_rgb) @ axis) / max(float(axis @ axis), 1e-6), 0.0, 1.0)
    # A pixel must also lie near that segment: a pixel of another colour is no part of the shape.
    off_axis = np.sqrt(((pixels - background_rgb - alpha[..., None] * axis) ** 2).sum(axis=2))
    region = _largest_component((alpha > 0.5) & (off_axis < 0.5 * np.sqrt(float(axis @ axis)) + 1e-6))
    area = int(region.sum())
    if area < MIN_AREA_SHARE * height * width:
        return Detection(False, nearest_colour(shape_rgb), None, background, 0.0, area / (height * width), None)
    ys, xs = np.nonzero(region)
    x0, x1, y0, y1 = int(xs.min()), int(xs.max()), int(ys.min()), int(ys.max())
    box_area = (x1 - x0 + 1) * (y1 - y0 + 1)
    fill_ratio = float(alpha[y0 : y1 + 1, x0 : x1 + 1].sum()) / box_area
    return Detection(
        True,
        nearest_colour(shape_rgb),
        classify_fill(fill_ratio),
        background,
        fill_ratio,
        area / (height * width),
        (x0, y0, x1, y1),
    )


def check(image: Image.Image | np.ndarray, prompt: str) -> CheckResult:
    """Compare what `image` shows with what `prompt` asks for."""
    wanted = parse_prompt(prompt)
    found = detect(image)
    return CheckResult(
        prompt=wanted,
        detection=found,
        colour_match=found.found and wanted.colour is not None and found.colour == wanted.colour,
        shape_match=found.found and wanted.shape is not None and found.shape == wanted.shape,
        background_match=wanted.background is not None and found.background == wanted.background,
    )


def score(images: Sequence[Image.Image | np.ndarray], prompts: Sequence[str]) -> dict[str, float]:
    """Shares of images whose colour, shape, both, and background match their prompts."""
    if len(images) != len(prompts):
        raise ValueError("one prompt per image")
    results = [check(image, prompt) for image, prompt in zip(images, prompts, strict=True)]
    count = max(len(results), 1)
    return {
        "n": float(len(results)),
        "colour_match": sum(r.colour_match for r in results) / count,
        "shape_match": sum(r.shape_match for r in results) / count,
        "match": sum(r.match for r in results) / count,
        "background_match": sum(r.background_match for r in results) / count,
    }
