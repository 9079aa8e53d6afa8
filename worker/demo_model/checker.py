"""A checker that needs no learned model: what shape, in what colour, does an image show, and does it match?

Torch-free (numpy + PIL). For an image of the demo model's world it estimates the background colour from the
border, takes the largest connected region of pixels closer to the dominant non-background colour than to the
background, and names that colour (nearest named colour). The shape is named only if the region looks like one
flat shape of the data set:
  - one object: little of the shape's colour lies outside the region (two shapes fail);
  - aspect ratio: the data set draws every shape in a square box (a flat ellipse fails);
  - edge sharpness: the soft transition from background to shape is narrow (a blurred square and a Gaussian blob
    fail);
  - form: the region overlaps the kind's own template, drawn by the data set's renderer into the region's box,
    and its compactness (4 pi area / perimeter^2) lies in that kind's range (an irregular octagon fails).
Every threshold below was set on shapes drawn by `worker.demo_model.shapes` (crisp, with noise, and blurred by
a Gaussian of at most 1 px), never on the demo model's samples; tests/worker/test_demo_checker.py holds the
positives and the negatives that must fail.

`score` reports beside every share the chance level: the share a model that ignores the prompt and draws a
random image of the data set would reach on the same prompts.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from worker.demo_model.shapes import COLOURS, SHAPES, all_combinations, draw_shape, nearest_name

# A pixel this far (RGB Euclidean) from the background may belong to the shape.
MIN_CONTRAST = 60.0
# A region smaller than this share of the image is no shape.
MIN_AREA_SHARE = 0.01
# One object: shape-coloured mass outside the region, as a share of the region's own.
MAX_STRAY_SHARE = 0.15
# Aspect ratio (width / height of the region's box): drawn shapes are 1.0 (+-1 px).
MAX_ASPECT = 1.2
# Edge width in pixels: area where the membership is between 0.25 and 0.75, per pixel of perimeter. Drawn: 0.0;
# blurred by a Gaussian of sigma 1 px: <= 2.0; sigma 3 px: >= 3.3.
MAX_EDGE_WIDTH = 2.5
# Intersection over union of the region's 0.5 level set with the kind's template drawn into the region's box.
# Drawn: 1.0; blurred (sigma 1 px): >= 0.88. The best kind must also beat the next by a margin: drawn shapes
# beat it by >= 0.2 (a square's template covers ~0.79 of a circle), an in-between form (an octagon) by little.
MIN_TEMPLATE_IOU = 0.85
MIN_TEMPLATE_MARGIN = 0.1
# Compactness 4 pi A / P^2 per kind (perimeter = total variation of the membership), with margins around what
# drawn shapes of every size measure, crisp (circle 0.88-0.92, square 0.80-0.81, triangle 0.56-0.59) and blurred
# by sigma 1 px (0.97-0.98, 0.82-0.85, 0.64-0.69).
COMPACTNESS_RANGE: dict[str, tuple[float, float]] = {
    "circle": (0.84, 1.05),
    "square": (0.76, 0.90),
    "triangle": (0.50, 0.74),
}


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
    shape: str | None  # None when the region is no flat shape of the data set (see `shape_reason`)
    background: str
    fill_ratio: float
    area_share: float
    bbox: tuple[int, int, int, int] | None  # x0, y0, x1, y1 inclusive
    aspect: float = 0.0  # width / height of the box, >= 1 (the longer side over the shorter)
    compactness: float = 0.0
    edge_width: float = 0.0
    stray_share: float = 0.0
    template_iou: dict[str, float] | None = None
    shape_reason: str | None = None  # why no shape was named


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


def _membership_features(alpha: np.ndarray, region: np.ndarray) -> tuple[np.ndarray, float, float, float]:
    """The region's soft membership (alpha within 2 px of the region), its area, perimeter and edge width."""
    near = region.copy()
    for _ in range(2):  # dilate twice (4-neighbourhood) to keep the soft edge
        grown = near.copy()
        grown[1:] |= near[:-1]
        grown[:-1] |= near[1:]
        grown[:, 1:] |= near[:, :-1]
        grown[:, :-1] |= near[:, 1:]
        near = grown
    soft = np.where(near, alpha, 0.0)
    # Noise moves the membership by a few tenths at most: read it through a ramp from 0.25 to 0.75 so that only
    # true edges have a gradient.
    ramp = np.clip((soft - 0.25) / 0.5, 0.0, 1.0)
    padded = np.pad(ramp, 1)
    # Perimeter as the total variation of the membership (coarea formula): blur-invariant, unlike pixel counts.
    gy = (padded[2:, 1:-1] - padded[:-2, 1:-1]) / 2
    gx = (padded[1:-1, 2:] - padded[1:-1, :-2]) / 2
    perimeter = float(np.sqrt(gx**2 + gy**2).sum())
    area = float(ramp.sum())
    band = float(((soft > 0.25) & (soft < 0.75)).sum())
    return soft, area, perimeter, band / max(perimeter, 1e-6)


def template(shape: str, bbox: tuple[int, int, int, int], size: tuple[int, int]) -> np.ndarray:
    """The data set's own drawing of `shape` filling `bbox`, as a 0/1 float mask of `size` (height, width)."""
    canvas = Image.new("L", (size[1], size[0]), 0)
    draw_shape(ImageDraw.Draw(canvas), shape, bbox, 255)
    return np.asarray(canvas, dtype=np.float64) / 255.0


def classify(
    soft: np.ndarray,
    bbox: tuple[int, int, int, int],
    compactness: float,
    edge_width: float,
    aspect: float,
    stray_share: float,
) -> tuple[str | None, dict[str, float], str | None]:
    """The kind of shape the region is, its overlap with each kind's template, and why none if none."""
    inside = soft > 0.5  # the 0.5 level set: where a blurred edge still runs
    ious = {}
    for kind in SHAPES:
        mask = template(kind, bbox, soft.shape) > 0.5
        ious[kind] = float((inside & mask).sum() / max(int((inside | mask).sum()), 1))
    best = max(ious, key=lambda kind: ious[kind])
    if stray_share > MAX_STRAY_SHARE:
        return None, ious, f"more than one object ({stray_share:.2f} of the shape's colour outside it)"
    if aspect > MAX_ASPECT:
        return None, ious, f"aspect ratio {aspect:.2f} > {MAX_ASPECT}"
    if edge_width > MAX_EDGE_WIDTH:
        return None, ious, f"soft edges ({edge_width:.2f} px > {MAX_EDGE_WIDTH})"
    if ious[best] < MIN_TEMPLATE_IOU:
        return None, ious, f"no kind's template fits (best {best}, IoU {ious[best]:.2f} < {MIN_TEMPLATE_IOU})"
    runner_up = max(iou for kind, iou in ious.items() if kind != best)
    if ious[best] - runner_up < MIN_TEMPLATE_MARGIN:
        return None, ious, f"between kinds ({best} IoU {ious[best]:.2f}, next {runner_up:.2f})"
    low, high = COMPACTNESS_RANGE[best]
    if not low <= compactness <= high:
        return None, ious, f"compactness {compactness:.2f} outside a {best}'s [{low}, {high}]"
    return best, ious, None


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
    background = nearest_name(background_rgb)
    distance = np.sqrt(((pixels - background_rgb) ** 2).sum(axis=2))
    candidates = distance > MIN_CONTRAST
    if candidates.sum() < MIN_AREA_SHARE * height * width:
        return Detection(False, None, None, background, 0.0, float(candidates.mean()), None, shape_reason="no shape")
    # The shape's colour: the median of the candidates farthest from the background (its core, not its edges).
    core = candidates & (distance >= np.median(distance[candidates]))
    shape_rgb = np.median(pixels[core], axis=0)
    # Soft membership: where each pixel lies on the segment background -> shape colour.
    axis = shape_rgb - background_rgb
    alpha = np.clip(((pixels - background_rgb) @ axis) / max(float(axis @ axis), 1e-6), 0.0, 1.0)
    # A pixel must also lie near that segment: a pixel of another colour is no part of the shape.
    off_axis = np.sqrt(((pixels - background_rgb - alpha[..., None] * axis) ** 2).sum(axis=2))
    on_axis = off_axis < 0.5 * np.sqrt(float(axis @ axis)) + 1e-6
    alpha = np.where(on_axis, alpha, 0.0)
    member = alpha > 0.5
    region = _largest_component(member)
    area = int(region.sum())
    if area < MIN_AREA_SHARE * height * width:
        return Detection(
            False,
            nearest_name(shape_rgb),
            None,
            background,
            0.0,
            area / (height * width),
            None,
            shape_reason="no region large enough",
        )
    ys, xs = np.nonzero(region)
    x0, x1, y0, y1 = int(xs.min()), int(xs.max()), int(ys.min()), int(ys.max())
    box_w, box_h = x1 - x0 + 1, y1 - y0 + 1
    fill_ratio = float(alpha[y0 : y1 + 1, x0 : x1 + 1].sum()) / (box_w * box_h)
    soft, soft_area, perimeter, edge_width = _membership_features(alpha, region)
    compactness = 4 * np.pi * soft_area / max(perimeter**2, 1e-6)
    stray_share = float((member & ~region).sum()) / area
    aspect = max(box_w, box_h) / min(box_w, box_h)
    kind, ious, reason = classify(soft, (x0, y0, x1, y1), compactness, edge_width, aspect, stray_share)
    return Detection(
        True,
        nearest_name(shape_rgb),
        kind,
        background,
        fill_ratio,
        area / (height * width),
        (x0, y0, x1, y1),
        aspect=aspect,
        compactness=float(compactness),
        edge_width=edge_width,
        stray_share=stray_share,
        template_iou=ious,
        shape_reason=reason,
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


def chance_levels(prompts: Sequence[str]) -> dict[str, float]:
    """Shares a model that ignores the prompt would reach: each prompt against a random data-set image."""
    combos = all_combinations()  # the data set draws each (shape, colour, background) equally often
    levels = {"colour": 0.0, "shape": 0.0, "match": 0.0, "background": 0.0}
    for prompt in prompts:
        wanted = parse_prompt(prompt)
        levels["colour"] += sum(colour == wanted.colour for _, colour, _ in combos) / len(combos)
        levels["shape"] += sum(shape == wanted.shape for shape, _, _ in combos) / len(combos)
        levels["match"] += sum((shape, colour) == (wanted.shape, wanted.colour) for shape, colour, _ in combos) / len(
            combos
        )
        levels["background"] += sum(background == wanted.background for _, _, background in combos) / len(combos)
    return {key: value / max(len(prompts), 1) for key, value in levels.items()}


def score(images: Sequence[Image.Image | np.ndarray], prompts: Sequence[str]) -> dict[str, float]:
    """Shares of images whose colour, shape, both, and background match their prompts, each beside its chance."""
    if len(images) != len(prompts):
        raise ValueError("one prompt per image")
    results = [check(image, prompt) for image, prompt in zip(images, prompts, strict=True)]
    count = max(len(results), 1)
    chance = chance_levels(prompts)
    return {
        "n": float(len(results)),
        "colour_match": sum(r.colour_match for r in results) / count,
        "colour_chance": chance["colour"],
        "shape_match": sum(r.shape_match for r in results) / count,
        "shape_chance": chance["shape"],
        "match": sum(r.match for r in results) / count,
        "match_chance": chance["match"],
        "background_match": sum(r.background_match for r in results) / count,
        "background_chance": chance["background"],
    }
