"""Charts as PNG files, for API clients that do not run the viewer: a comparison's convergence and similarity, a
sweep's error-vs-NFE plot.

matplotlib with its non-interactive Agg backend, imported on first use (the warm-up run pays for it).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from service.contract import ErrorCurve

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


def error_vs_nfe_png(curves: Sequence[ErrorCurve], tolerance: float) -> bytes:
    """A sweep's pixel distance to the reference (log) against UNet evaluations per image (log), one panel per
    guidance scale, the tolerance dashed; each scheduler in its colour in every panel."""
    pyplot = _pyplot()
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    guidances = sorted({curve.guidance_scale for curve in curves})
    figure, panels = pyplot.subplots(1, len(guidances), figsize=(4.6 * len(guidances), 4), sharey=True, squeeze=False)
    nfes = sorted({point.nfe for curve in curves for point in curve.points})
    labelled: list[int] = []  # from the largest down: 9 and 10 evaluations would overprint each other
    for nfe in reversed(nfes):
        if not labelled or math.log10(labelled[-1] / nfe) >= 0.1:
            labelled.append(nfe)
    for axes, guidance in zip(panels[0], guidances, strict=True):
        for curve in (c for c in curves if c.guidance_scale == guidance):
            axes.plot(
                [point.nfe for point in curve.points],
                [point.image_distance for point in curve.points],
                marker="o",
                markersize=4,
                label=f"{curve.scheduler_index + 1}. {curve.scheduler}",
                color=COLOURS[curve.scheduler_index % len(COLOURS)],
            )
        axes.axhline(tolerance, color="grey", linestyle="--", linewidth=1, label=f"tolerance {tolerance:g}")
        axes.set(xscale="log", yscale="log", xlabel="UNet evaluations per image", title=f"CFG {guidance:g}")
        axes.set_xticks(nfes, [str(nfe) if nfe in labelled else "" for nfe in nfes])
        axes.xaxis.set_minor_formatter(NullFormatter())
        axes.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axes.yaxis.set_minor_formatter(NullFormatter())
        axes.grid(alpha=0.3)
    panels[0][0].set_ylabel("pixel RMSE to the reference")
    panels[0][-1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1))
    figure.suptitle("Distance to the reference vs. UNet evaluations")
    return _png(figure)
