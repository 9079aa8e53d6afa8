"""Procedural data set: one flat shape in a named colour on a named background, captioned in plain words.

Everything is drawn on the fly from a seed (numpy RNG + PIL), so the data set ships as code. The same seed
gives the same image and caption on every machine.
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class ShapeSpec:
    shape: str
    colour: str
    background: str
    size: int = 32
    x: int = 16  # left edge of the bounding box
    y: int = 16  # top edge of the bounding box

    @property
    def caption(self) -> str:
        return caption(self.shape, self.colour, self.background)


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


def random_spec(rng: np.random.Generator) -> ShapeSpec:
    combos = all_combinations()
    shape, colour, background = combos[int(rng.integers(len(combos)))]
    size = int(rng.integers(MIN_SIZE, MAX_SIZE + 1))
    x = int(rng.integers(MARGIN, IMAGE_SIZE - MARGIN - size + 1))
    y = int(rng.integers(MARGIN, IMAGE_SIZE - MARGIN - size + 1))
    return ShapeSpec(shape, colour, background, size, x, y)


def draw(spec: ShapeSpec, image_size: int = IMAGE_SIZE) -> Image.Image:
    """Draw `spec` as an RGB image: flat colours, axis-aligned square, upright isosceles triangle."""
    image = Image.new("RGB", (image_size, image_size), COLOURS[spec.background])
    box = (spec.x, spec.y, spec.x + spec.size - 1, spec.y + spec.size - 1)
    draw_shape(ImageDraw.Draw(image), spec.shape, box, COLOURS[spec.colour])
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


def dataset(seed: int, count: int) -> tuple[np.ndarray, list[str], list[ShapeSpec]]:
    """`count` items drawn from one seed: uint8 images (count, H, W, 3), captions, specs."""
    rng = np.random.default_rng(seed)
    specs = [random_spec(rng) for _ in range(count)]
    images = np.stack([np.asarray(draw(spec)) for spec in specs])
    return images, [spec.caption for spec in specs], specs


def vocabulary() -> list[str]:
    """Every word a caption uses: the tokenizer gives each one a single token."""
    words = ["a", "on", "background", *SHAPES, *COLOURS]
    return list(dict.fromkeys(words))
