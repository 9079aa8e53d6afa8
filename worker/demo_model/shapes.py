"""Procedural data set: one flat shape in a named colour on a named background, captioned in plain words.

Everything is drawn on the fly from a seed (numpy RNG + PIL), so the data set ships as code. The same seed
gives the same image and caption on every machine.

Colours are drawn around the named ones, not exactly on them: each channel of the shape's colour moves by up
to COLOUR_JITTER (never nearer than COLOUR_MARGIN to another name's cell) and the background's grey level by up
to BACKGROUND_JITTER, as long as shape and background stay MIN_CONTRAST apart. The data are then nearly a
continuum between colours, as natural images are, so the model's unconditional prediction changes smoothly
from colour to colour and classifier-free guidance has less of an abrupt switch to amplify. That is what made
linear multistep samplers (LMS, PNDM) far more stable on version 2 of the model than on version 1, though not yet
as stable as on Stable Diffusion (the model card and the README's quality table say how far).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

IMAGE_SIZE = 64

# Named colours (RGB). Shape colours and background colours overlap (white, black) but a sample never uses the
# same colour for both.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 180, 60),
    "blue": (40, 70, 220),
    "yellow": (235, 215, 40),
    "white": (240, 240, 240),
    "black": (20, 20, 20),
    "gray": (128, 128, 128),
}
SHAPE_COLOURS: tuple[str, ...] = ("red", "green", "blue", "yellow", "white", "black")
BACKGROUNDS: tuple[str, ...] = ("black", "white", "gray")
SHAPES: tuple[str, ...] = ("circle", "square", "triangle")

# Bounding-box side in pixels, and the margin kept free at the image border.
MIN_SIZE = 22
MAX_SIZE = 40
MARGIN = 4

COLOUR_JITTER = 80
COLOUR_MARGIN = 30.0
BACKGROUND_JITTER = 30
MIN_CONTRAST = 110.0  # Euclidean RGB distance between the shape's and the background's colour


@dataclass(frozen=True)
class ShapeSpec:
    shape: str
    colour: str
    background: str
    size: int = 32
    x: int = 16  # left edge of the bounding box
    y: int = 16  # top edge of the bounding box
    fill: tuple[int, int, int] | None = None  # the shape's RGB; None: exactly the named colour
    background_fill: tuple[int, int, int] | None = None  # the background's RGB; None: exactly the named colour

    @property
    def caption(self) -> str:
        return caption(self.shape, self.colour, self.background)

    @property
    def shape_rgb(self) -> tuple[int, int, int]:
        return self.fill or COLOURS[self.colour]

    @property
    def background_rgb(self) -> tuple[int, int, int]:
        return self.background_fill or COLOURS[self.background]


def caption(shape: str, colour: str, background: str) -> str:
    return f"a {colour} {shape} on a {background} background"


def all_combinations() -> list[tuple[str, str, str]]:
    """Every (shape, colour, background) the data set draws: the shape never has the background's colour."""
    return [
        (shape, colour, background)
        for shape in SHAPES
        for colour in SHAPE_COLOURS
        for background in BACKGROUNDS
        if colour != background
    ]


def nearest_name(rgb: Iterable[float]) -> str:
    """The named colour closest to `rgb` (Euclidean in RGB): how the data set keeps names and the checker judges."""
    names = list(COLOURS)
    palette = np.array([COLOURS[name] for name in names], dtype=np.float64)
    return names[int(np.argmin(((palette - np.asarray(list(rgb), dtype=np.float64)) ** 2).sum(axis=1)))]


def _jittered_colours(
    rng: np.random.Generator, colour: str, background: str, colour_jitter: int, background_jitter: int
) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """Shape and background RGB near their names: resampled until both keep their name and their contrast.

    The shape's colour is uniform over the part of its name's cell (the RGB points nearer to it than to any
    other named colour by COLOUR_MARGIN) within `colour_jitter` of it per channel, so neighbouring colours' data
    nearly touch while a checker with some tolerance still names every one right.
    """
    own = np.array(COLOURS[colour], dtype=np.float64)
    others = np.array([rgb for name, rgb in COLOURS.items() if name != colour], dtype=np.float64)
    while True:
        fill = np.clip(own + rng.integers(-colour_jitter, colour_jitter + 1, 3), 0, 255)
        level = int(np.clip(COLOURS[background][0] + rng.integers(-background_jitter, background_jitter + 1), 0, 255))
        background_fill = (level, level, level)
        margin = np.linalg.norm(others - fill, axis=1).min() - np.linalg.norm(own - fill)
        contrast = float(np.linalg.norm(fill - background_fill))
        if margin >= COLOUR_MARGIN and nearest_name(background_fill) == background and contrast >= MIN_CONTRAST:
            return (int(fill[0]), int(fill[1]), int(fill[2])), background_fill


def random_spec(
    rng: np.random.Generator, colour_jitter: int = COLOUR_JITTER, background_jitter: int = BACKGROUND_JITTER
) -> ShapeSpec:
    combos = all_combinations()
    shape, colour, background = combos[int(rng.integers(len(combos)))]
    size = int(rng.integers(MIN_SIZE, MAX_SIZE + 1))
    x = int(rng.integers(MARGIN, IMAGE_SIZE - MARGIN - size + 1))
    y = int(rng.integers(MARGIN, IMAGE_SIZE - MARGIN - size + 1))
    if not (colour_jitter or background_jitter):
        return ShapeSpec(shape, colour, background, size, x, y)
    fill, background_fill = _jittered_colours(rng, colour, background, colour_jitter, background_jitter)
    return ShapeSpec(shape, colour, background, size, x, y, fill, background_fill)


def draw(spec: ShapeSpec, image_size: int = IMAGE_SIZE) -> Image.Image:
    """Draw `spec` as an RGB image: flat colours, axis-aligned square, upright isosceles triangle."""
    image = Image.new("RGB", (image_size, image_size), spec.background_rgb)
    box = (spec.x, spec.y, spec.x + spec.size - 1, spec.y + spec.size - 1)
    draw_shape(ImageDraw.Draw(image), spec.shape, box, spec.shape_rgb)
    return image


def draw_shape(
    pen: ImageDraw.ImageDraw, shape: str, box: tuple[int, int, int, int], fill: float | tuple[int, ...] | str | None
) -> None:
    """Draw one shape filling the inclusive box (x0, y0, x1, y1): the data set's renderer, the checker's templates."""
    x0, y0, x1, y1 = box
    if shape == "circle":
        pen.ellipse((x0, y0, x1, y1), fill=fill)
    elif shape == "square":
        pen.rectangle((x0, y0, x1, y1), fill=fill)
    elif shape == "triangle":
        pen.polygon([((x0 + x1) / 2, y0), (x1, y1), (x0, y1)], fill=fill)
    else:
        raise ValueError(f"unknown shape {shape!r}")


def sample(seed: int) -> tuple[Image.Image, str, ShapeSpec]:
    """One data set item from its own seed: (image, caption, spec)."""
    spec = random_spec(np.random.default_rng(seed))
    return draw(spec), spec.caption, spec


def dataset(
    seed: int, count: int, colour_jitter: int = COLOUR_JITTER, background_jitter: int = BACKGROUND_JITTER
) -> tuple[np.ndarray, list[str], list[ShapeSpec]]:
    """`count` items drawn from one seed: uint8 images (count, H, W, 3), captions, specs (jitter 0: exact colours)."""
    rng = np.random.default_rng(seed)
    specs = [random_spec(rng, colour_jitter, background_jitter) for _ in range(count)]
    images = np.stack([np.asarray(draw(spec)) for spec in specs])
    return images, [spec.caption for spec in specs], specs


def vocabulary() -> list[str]:
    """Every word a caption uses: the tokenizer gives each one a single token."""
    words = ["a", "on", "background", *SHAPES, *COLOURS]
    return list(dict.fromkeys(words))
