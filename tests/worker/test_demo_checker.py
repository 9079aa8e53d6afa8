"""The demo checker's shape judgement: drawn positives pass, drawn negatives fail, chance levels are reported.

Positives come from the data set's own renderer (`shapes.draw`), crisp, noisy, and blurred by a Gaussian of up
to 1 px; the negatives are forms the data set never draws. The checker's thresholds were set on such drawn
shapes, never on the demo model's samples.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from worker.demo_model import checker, shapes

RED = shapes.COLOURS["red"]
PROMPT = "a red circle on a black background"


def _canvas(background: str = "black") -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (shapes.IMAGE_SIZE, shapes.IMAGE_SIZE), shapes.COLOURS[background])
    return image, ImageDraw.Draw(image)


def _specs(count: int, seed: int) -> list[shapes.ShapeSpec]:
    rng = np.random.default_rng(seed)
    return [shapes.random_spec(rng) for _ in range(count)]


# ---- positives: the data set's own drawings ----------------------------------------------------------------


@pytest.mark.parametrize("blur", [0.0, 0.5, 1.0])
def test_drawn_shapes_pass_crisp_and_slightly_blurred(blur: float) -> None:
    specs = _specs(90, seed=int(blur * 10) + 1)
    for spec in specs:
        image = shapes.draw(spec)
        if blur:
            image = image.filter(ImageFilter.GaussianBlur(blur))
        result = checker.check(image, spec.caption)
        assert result.match, (spec, result.detection)


def test_drawn_shapes_with_pixel_noise_pass() -> None:
    images, captions, _ = shapes.dataset(2024, 120)
    noisy = np.clip(images + np.random.default_rng(0).normal(0, 12, images.shape), 0, 255).astype(np.uint8)
    assert checker.score(list(noisy), captions)["match"] >= 0.97


# ---- negatives: forms that are not one flat shape of the data set ------------------------------------------


def _ellipse(width: int, height: int) -> Image.Image:
    image, pen = _canvas()
    pen.ellipse((32 - width // 2, 32 - height // 2, 32 + width // 2, 32 + height // 2), fill=RED)
    return image


def _blurred_square() -> Image.Image:
    return shapes.draw(shapes.ShapeSpec("square", "red", "black", 32, 16, 16)).filter(ImageFilter.GaussianBlur(3))


def _gaussian_blob() -> Image.Image:
    ys, xs = np.mgrid[: shapes.IMAGE_SIZE, : shapes.IMAGE_SIZE]
    weight = np.exp(-((xs - 32) ** 2 + (ys - 32) ** 2) / (2 * 9.0**2))[..., None]
    background, colour = np.array(shapes.COLOURS["black"]), np.array(RED)
    return Image.fromarray((background + weight * (colour - background)).round().astype(np.uint8))


def _two_circles() -> Image.Image:
    image, pen = _canvas()
    pen.ellipse((4, 4, 28, 28), fill=RED)
    pen.ellipse((34, 34, 58, 58), fill=RED)
    return image


def _square_and_small_circle() -> Image.Image:
    image, pen = _canvas()
    pen.rectangle((4, 4, 30, 30), fill=RED)
    pen.ellipse((38, 38, 56, 56), fill=RED)
    return image


def _irregular_octagon() -> Image.Image:
    x0, y0, side = 14, 14, 36
    top_left, top_right, bottom_right, bottom_left = 2, 14, 6, 11  # corner cuts, px
    image, pen = _canvas()
    pen.polygon(
        [
            (x0 + top_left, y0),
            (x0 + side - top_right, y0),
            (x0 + side, y0 + top_right),
            (x0 + side, y0 + side - bottom_right),
            (x0 + side - bottom_right, y0 + side),
            (x0 + bottom_left, y0 + side),
            (x0, y0 + side - bottom_left),
            (x0, y0 + top_left),
        ],
        fill=RED,
    )
    return image


NEGATIVES = {
    "flat ellipse 2:1": (_ellipse(40, 20), "aspect ratio"),
    "ellipse 1.3:1": (_ellipse(36, 28), "aspect ratio"),
    "blurred square (sigma 3 px)": (_blurred_square(), "soft edges"),
    "Gaussian blob": (_gaussian_blob(), "soft edges"),
    "two circles": (_two_circles(), "more than one object"),
    "square and a small circle": (_square_and_small_circle(), "more than one object"),
    "irregular octagon": (_irregular_octagon(), "between kinds"),
}


@pytest.mark.parametrize("name", NEGATIVES)
def test_negatives_fail_for_the_right_reason(name: str) -> None:
    image, reason = NEGATIVES[name]
    result = checker.check(image, PROMPT)
    assert result.colour_match  # the colour is right: only the shape judgement may fail it
    assert not result.shape_match and not result.match
    assert result.detection.shape is None
    assert result.detection.shape_reason is not None and result.detection.shape_reason.startswith(reason), (
        result.detection
    )


def test_negatives_fail_for_every_prompted_shape() -> None:
    for image, _ in NEGATIVES.values():
        for shape in shapes.SHAPES:
            assert not checker.check(image, f"a red {shape} on a black background").shape_match


# ---- the features themselves ----------------------------------------------------------------------------


def test_drawn_features_sit_inside_their_kind() -> None:
    for shape in shapes.SHAPES:
        for size in (shapes.MIN_SIZE, 30, shapes.MAX_SIZE):
            found = checker.detect(shapes.draw(shapes.ShapeSpec(shape, "blue", "white", size, 8, 10)))
            low, high = checker.COMPACTNESS_RANGE[shape]
            assert low <= found.compactness <= high
            assert found.aspect == pytest.approx(1.0, abs=0.1)
            assert found.edge_width < 0.5
            assert found.template_iou is not None and found.template_iou[shape] > 0.95
            others = [iou for kind, iou in found.template_iou.items() if kind != shape]
            assert found.template_iou[shape] - max(others) >= 0.15


# ---- chance levels -------------------------------------------------------------------------------------------


def test_chance_levels_come_from_the_data_set() -> None:
    combos = shapes.all_combinations()
    red = checker.chance_levels(["a red circle on a black background"])
    assert red["colour"] == pytest.approx(sum(c == "red" for _, c, _ in combos) / len(combos))
    assert red["shape"] == pytest.approx(1 / 3)
    assert red["match"] == pytest.approx(sum((s, c) == ("circle", "red") for s, c, _ in combos) / len(combos))
    assert red["background"] == pytest.approx(sum(b == "black" for _, _, b in combos) / len(combos))
    every = checker.chance_levels([shapes.caption(*combo) for combo in combos])
    assert 0.15 < every["colour"] < 0.2 and every["shape"] == pytest.approx(1 / 3)


def test_every_score_has_its_chance_beside_it() -> None:
    images, captions, _ = shapes.dataset(5, 12)
    result = checker.score(list(images), captions)
    for key in ("colour", "shape", "match", "background"):
        match_key = key if key == "match" else f"{key}_match"
        assert f"{key}_chance" in result and result[match_key] > result[f"{key}_chance"]
    # Every image scored against another image's prompt: near chance, far below the true pairing.
    shifted = checker.score(list(images), captions[1:] + captions[:1])
    assert shifted["match"] < 0.5 < result["match"]
