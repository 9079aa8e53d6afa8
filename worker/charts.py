"""Charts of a comparison as PNG files, for API clients that do not run the viewer: convergence and similarity.

matplotlib with its non-interactive Agg backend, imported on first use (the warm-up run pays for it).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

# The viewer's palette, so a chart and the page agree on each scheduler's colour.
COLOURS = ["#e4572e", "#17bebb", "#ffc914", "#76b041", "#a06cd5", "#f49cbb", "#2e86ab", "#f18f01", "#c5d86d"]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    _pyplot().close(figure)
    return buffer.getvalue()


def convergence_png(
    curves: Sequence[tuple[str, Sequence[tuple[int, float]]]], steps: int, emergence_threshold: float
) -> bytes:
    """One line per scheduler: relative distance of each captured step's x0 prediction to the final latent."""
    pyplot = _pyplot()
    figure, axes = pyplot.subplots(figsize=(7, 4))
    for index, (name, curve) in enumerate(curves):
        if curve:
            x, y = zip(*curve, strict=True)
            axes.plot(x, y, marker="o", markersize=3, label=name, color=COLOURS[index % len(COLOURS)])
    axes.axhline(emergence_threshold, color="grey", linestyle="--", linewidth=1, label="emergence threshold")
    axes.set(xlabel="scheduler step", ylabel="||x0(step) − final|| / ||final||", xlim=(0, steps), ylim=(0, None))
    axes.set_title("Convergence of the x0 prediction")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="upper right")
    return _png(figure)


def similarity_png(names: Sequence[str], matrix: Sequence[Sequence[float | None]]) -> bytes:
    """The PSNR matrix of final images as a heatmap, values written in the cells.

    A `None` cell is a pair of identical images (infinite PSNR): it is drawn in the top colour and labelled so.
    """
    pyplot = _pyplot()
    size = len(names)
    figure, axes = pyplot.subplots(figsize=(1.2 + 0.9 * size, 0.8 + 0.8 * size))
    finite = [v for i in range(size) for j in range(size) if i != j and (v := matrix[i][j]) is not None] or [100.0]
    top = max(finite)
    values = [[top if value is None else value for value in row] for row in matrix]
    image = axes.imshow(values, cmap="viridis", vmin=min(finite), vmax=top)
    for i in range(size):
        for j in range(size):
            value = matrix[i][j]
            text = "—" if i == j else "same" if value is None else f"{value:.1f}"
            axes.text(j, i, text, ha="center", va="center", color="white", fontsize=8)
    axes.set_xticks(range(size), [str(i + 1) for i in range(size)])
    axes.set_yticks(range(size), [f"{i + 1}. {name}" for i, name in enumerate(names)])
    axes.set_title("Similarity of final images (PSNR, dB)")
    figure.colorbar(image, ax=axes, shrink=0.8)
    return _png(figure)
