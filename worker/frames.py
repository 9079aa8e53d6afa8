"""Turning latents into pictures: VAE and approximate decoders, labelled grids and the contact sheet."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import torch
from PIL import Image, ImageDraw, ImageFont

from worker.model import LoadedModel

# PIL and most viewers refuse images with a side beyond 65,535 px (A1111 issues #8164, #12642).
MAX_SIDE = 65_535
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


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)  # fast: frames are many, and previews
    return buffer.getvalue()


def make_xy_grid(
    title: str,
    x_title: str,
    x_labels: Sequence[str],
    y_title: str,
    y_labels: Sequence[str],
    cells: Sequence[Sequence[Image.Image | None]],
    max_pixels: int,
) -> list[Image.Image]:
    """An A1111-style X/Y plot: `cells[y][x]`, axis values along the top and left, axis names in the corner.

    A grid over `max_pixels` (or over 65,535 px a side) is tiled into pages, each labelled and within the cap,
    instead of failing. Pages run left to right, then top to bottom.
    """
    scaled = [[_cell(image) if image is not None else None for image in row] for row in cells]
    sample = next(image for row in scaled for image in row if image is not None)
    cell_w, cell_h = sample.size
    label_w, header_h = 170, 2 * LABEL_HEIGHT
    columns, rows = len(x_labels), len(y_labels)

    def fits(cols: int, rws: int) -> bool:
        width, height = label_w + cell_w * cols, header_h + cell_h * rws
        return width * height <= max_pixels and max(width, height) <= MAX_SIDE

    cols_per_page = next((c for c in range(columns, 0, -1) if fits(c, 1)), 1)
    rows_per_page = next((r for r in range(rows, 0, -1) if fits(cols_per_page, r)), 1)
    col_pages, row_pages = math.ceil(columns / cols_per_page), math.ceil(rows / rows_per_page)
    pages: list[Image.Image] = []
    font, small = _font(14), _font(12)
    for row_page in range(row_pages):
        for col_page in range(col_pages):
            xs = range(col_page * cols_per_page, min(columns, (col_page + 1) * cols_per_page))
            ys = range(row_page * rows_per_page, min(rows, (row_page + 1) * rows_per_page))
            page = Image.new("RGB", (label_w + cell_w * len(xs), header_h + cell_h * len(ys)), "white")
            draw = ImageDraw.Draw(page)
            heading = title if col_pages * row_pages == 1 else f"{title} (page {len(pages) + 1})"
            draw.text((4, 3), heading, fill=(0, 0, 0), font=font)
            draw.text((4, LABEL_HEIGHT + 3), f"y: {y_title}, x: {x_title}", fill=(90, 90, 90), font=small)
            for col, x in enumerate(xs):
                draw.text((label_w + col * cell_w + 3, LABEL_HEIGHT + 3), x_labels[x], fill=(0, 0, 0), font=font)
            for row, y in enumerate(ys):
                top = header_h + row * cell_h
                draw.text((4, top + 4), y_labels[y], fill=(0, 0, 0), font=small)
                for col, x in enumerate(xs):
                    image = scaled[y][x]
                    if image is not None:
                        page.paste(image, (label_w + col * cell_w, top))
            pages.append(page)
    return pages
