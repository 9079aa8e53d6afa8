"""Turning latents into pictures: VAE and approximate decoders, labelled grids and the contact sheet."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from PIL import Image, ImageDraw, ImageFont

from worker.model import LoadedModel

GRID_CELL_MAX = 256  # grid cells are downscaled to this; the full-size frames are stored beside the grid
LABEL_HEIGHT = 22


def _size(model: LoadedModel, size: tuple[int, int] | None) -> tuple[int, int]:
    return size or (model.default_size, model.default_size)


@torch.no_grad()
def decode_vae(model: LoadedModel, latents: torch.Tensor, size: tuple[int, int] | None = None) -> list[Image.Image]:
    """Decode exactly as the family's pipeline `__call__` does, so final images match plain diffusers.

    `size` is the image's (height, width): Flux's packed latents need it to unpack.
    """
    return model.family.decode(model.pipe, latents, *_size(model, size))


@torch.no_grad()
def decode_approx(model: LoadedModel, latents: torch.Tensor, size: tuple[int, int] | None = None) -> list[Image.Image]:
    """A linear latent -> RGB projection, upscaled (nearest) to the VAE's output size. No network pass."""
    latents = model.family.to_spatial(model.pipe, latents, *_size(model, size))
    matrix = torch.tensor(model.approx.matrix, dtype=torch.float32)
    bias = torch.tensor(model.approx.bias, dtype=torch.float32)
    rgb = latents.float().cpu().permute(0, 2, 3, 1) @ matrix + bias
    pixels = ((rgb.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
    scale = model.vae_scale_factor
    return [
        Image.fromarray(array).resize((array.shape[1] * scale, array.shape[0] * scale), Image.Resampling.NEAREST)
        for array in pixels
    ]


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType
        return ImageFont.load_default()


def _cell(image: Image.Image) -> Image.Image:
    if max(image.size) <= GRID_CELL_MAX:
        return image
    factor = GRID_CELL_MAX / max(image.size)
    return image.resize((round(image.width * factor), round(image.height * factor)), Image.Resampling.LANCZOS)


def make_grid(columns: Sequence[tuple[int, Sequence[Image.Image]]]) -> Image.Image:
    """Rows = images, columns = captured steps, step numbers in red along the top (as in the experiment)."""
    cells = [[_cell(image) for image in images] for _, images in columns]
    cell_w, cell_h = cells[0][0].size
    rows = max(len(column) for column in cells)
    grid = Image.new("RGB", (cell_w * len(cells), LABEL_HEIGHT + cell_h * rows), "white")
    draw = ImageDraw.Draw(grid)
    font = _font(14)
    for col, ((step, _), images) in enumerate(zip(columns, cells, strict=True)):
        draw.text((col * cell_w + 3, 3), str(step), fill=(220, 0, 0), font=font)
        for row, image in enumerate(images):
            grid.paste(image, (col * cell_w, LABEL_HEIGHT + row * cell_h))
    return grid


def make_contact_sheet(rows: Sequence[tuple[str, Sequence[Image.Image]]]) -> Image.Image:
    """Rows = schedulers (named on the left), columns = final images."""
    label_w = 150
    cells = [[_cell(image) for image in images] for _, images in rows]
    cell_w, cell_h = cells[0][0].size
    columns = max(len(row) for row in cells)
    sheet = Image.new("RGB", (label_w + cell_w * columns, cell_h * len(cells)), "white")
    draw = ImageDraw.Draw(sheet)
    font = _font(12)
    for row, ((name, _), images) in enumerate(zip(rows, cells, strict=True)):
        draw.text((4, row * cell_h + 4), name, fill=(0, 0, 0), font=font)
        for col, image in enumerate(images):
            sheet.paste(image, (label_w + col * cell_w, row * cell_h))
    return sheet
