"""A sweep's answer: error-vs-NFE curves, the cheapest cell near the reference, a ranking per budget, X/Y grids.

Everything here is computed from finished runs' results (their reference distances and UNet call counts) and
their first final image; nothing runs the model.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from PIL import Image, ImageDraw

from service.contract import (
    BudgetRanking,
    ComparisonSpec,
    CurvePoint,
    ErrorCurve,
    GridPage,
    SchedulerResult,
    SweepAnswer,
    format_axis_value,
)
from worker import frames
from worker.result_writer import ResultWriter


def answer(
    spec: ComparisonSpec,
    finished: Sequence[tuple[SchedulerResult, Image.Image | None]],
    writer: ResultWriter,
    grid_max_pixels: int,
) -> SweepAnswer:
    """Compute and store the sweep's answer: curves and ranking (JSON), the plot and the grids (PNG)."""
    reference = spec.resolved_reference()
    assert reference is not None  # a sweep always has one
    results = [result for result, _ in finished]
    curves = error_curves(results, reference.tolerance)
    grids = store_grids(spec, finished, writer, grid_max_pixels)
    plot_key = writer.sweep_plot(plot_error_vs_nfe(curves, reference.tolerance)) if curves else None
    document = SweepAnswer(
        reference=reference.model_dump(mode="json"),
        tolerance=reference.tolerance,
        curves=curves,
        ranking=budget_ranking(curves),
        grids=grids,
        plot=plot_key,
        answer=writer.keys.sweep_answer,
    )
    writer.sweep_answer(document)
    return document


def error_curves(results: Sequence[SchedulerResult], tolerance: float) -> list[ErrorCurve]:
    """Per scheduler and guidance scale: distance to the reference per step count, averaged over seeds."""
    by_curve: dict[tuple[int, float], dict[int, list[SchedulerResult]]] = defaultdict(lambda: defaultdict(list))
    for result in results:
        if result.cell is None or result.reference_distance is None:
            continue
        by_curve[(result.index, result.cell.guidance_scale)][result.cell.steps].append(result)
    curves = []
    for (index, guidance), by_steps in sorted(by_curve.items()):
        points = []
        for steps, runs in sorted(by_steps.items()):
            points.append(
                CurvePoint(
                    steps=steps,
                    nfe=runs[0].timings.unet_calls,
                    latent_distance=round(_mean(r.reference_distance.latent for r in runs if r.reference_distance), 6),
                    image_distance=round(_mean(r.reference_distance.image for r in runs if r.reference_distance), 6),
                    image_distance_mean=round(
                        _mean(r.reference_distance.image_mean for r in runs if r.reference_distance), 6
                    ),
                )
            )
        points.sort(key=lambda point: point.nfe)
        first = next(iter(by_steps.values()))[0]
        curves.append(
            ErrorCurve(
                scheduler_index=index,
                scheduler=first.name,
                stochastic=first.stochastic,
                guidance_scale=guidance,
                points=points,
                cheapest_within_tolerance=next((p for p in points if p.image_distance <= tolerance), None),
            )
        )
    return curves


def budget_ranking(curves: Sequence[ErrorCurve]) -> list[BudgetRanking]:
    """For each guidance scale and each budget (every NFE the sweep ran), schedulers by the best distance within it."""
    rankings = []
    for guidance in sorted({curve.guidance_scale for curve in curves}):
        at_guidance = [curve for curve in curves if curve.guidance_scale == guidance]
        budgets = sorted({point.nfe for curve in at_guidance for point in curve.points})
        for budget in budgets:
            entries: list[dict[str, Any]] = []
            for curve in at_guidance:
                affordable = [point for point in curve.points if point.nfe <= budget]
                if not affordable:
                    continue
                best = min(affordable, key=lambda point: point.image_distance)
                entries.append(
                    {"scheduler": curve.scheduler, "scheduler_index": curve.scheduler_index, **best.model_dump()}
                )
            entries.sort(key=lambda entry: (entry["image_distance"], entry["nfe"]))
            rankings.append(BudgetRanking(guidance_scale=guidance, budget=budget, ranking=entries))
    return rankings


def store_grids(
    spec: ComparisonSpec,
    finished: Sequence[tuple[SchedulerResult, Image.Image | None]],
    writer: ResultWriter,
    max_pixels: int,
) -> list[GridPage]:
    """One X/Y grid per (guidance, seed): x = steps, y = scheduler; each cell shows image 0 (the seed itself)."""
    steps = sorted(spec.steps_values)
    names = [f"{i + 1}. {choice.name}" for i, choice in enumerate(spec.schedulers)]
    pages: list[GridPage] = []
    for guidance in spec.guidance_values:
        for seed in spec.seed_values:
            cells: list[list[Image.Image | None]] = [[None] * len(steps) for _ in names]
            for result, image in finished:
                cell = result.cell
                if cell is None or cell.guidance_scale != guidance or cell.seed != seed:
                    continue
                cells[result.index][steps.index(cell.steps)] = image
            if not any(image is not None for row in cells for image in row):
                continue
            title = f"CFG {format_axis_value(guidance)}, seed {seed} (image 0)"
            images = frames.make_xy_grid(
                title, "steps", [f"{s} steps" for s in steps], "scheduler", names, cells, max_pixels
            )
            for page, image in enumerate(images):
                key = writer.sweep_grid(guidance, seed, page, len(images), image)
                pages.append(GridPage(guidance_scale=guidance, seed=seed, page=page, pages=len(images), key=key))
    return pages


# ---------------------------------------------------------------------------------------------------------------
# The plot, drawn with PIL (no plotting library in the worker image)

# matplotlib's tab10, so PIL-drawn plots look like the charts drawn with it.
PLOT_COLOURS = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
]


def plot_error_vs_nfe(curves: Sequence[ErrorCurve], tolerance: float) -> Image.Image:
    """Image distance to the reference (log) against UNet evaluations per image (log), one panel per guidance."""
    guidances = sorted({curve.guidance_scale for curve in curves})
    names = sorted({(curve.scheduler_index, curve.scheduler) for curve in curves})
    panel_w, panel_h, margin = 420, 320, 56
    legend_h = 18 * len(names) + 10
    image = Image.new("RGB", (panel_w * len(guidances), panel_h + legend_h + 30), "white")
    pen = ImageDraw.Draw(image)
    font = frames._font(12)
    points = [p for curve in curves for p in curve.points]
    nfe_lo, nfe_hi = min(p.nfe for p in points), max(p.nfe for p in points)
    floor = 1e-4
    err_lo = max(floor, min(min(p.image_distance for p in points), tolerance) * 0.8)
    err_hi = max(max(p.image_distance for p in points), tolerance) * 1.25
    log = math.log10

    def x_of(nfe: float, left: int) -> float:
        span = log(nfe_hi) - log(nfe_lo) or 1.0
        return left + margin + (log(nfe) - log(nfe_lo)) / span * (panel_w - margin - 16)

    def y_of(error: float) -> float:
        span = log(err_hi) - log(err_lo) or 1.0
        return 30 + (log(err_hi) - log(max(error, err_lo))) / span * (panel_h - margin - 10)

    for panel, guidance in enumerate(guidances):
        left = panel * panel_w
        bottom = 30 + panel_h - margin - 10
        pen.text((left + margin, 8), f"distance to reference vs. UNet evaluations, CFG {guidance:g}", fill=0, font=font)
        pen.rectangle((left + margin, 30, left + panel_w - 16, bottom), outline=(0, 0, 0))
        labelled_at = -1e9
        for nfe in sorted({p.nfe for p in points}):
            x = x_of(nfe, left)
            pen.line((x, bottom, x, bottom + 4), fill=0)
            if x - labelled_at >= 24:  # 9 and 10 evaluations would overprint each other
                pen.text((x - 8, bottom + 6), str(nfe), fill=0, font=font)
                labelled_at = x
        ticks = [m * 10.0**e for e in range(math.floor(log(err_lo)), math.ceil(log(err_hi)) + 1) for m in (1, 2, 5)]
        for value in ticks:
            if err_lo <= value <= err_hi:
                y = y_of(value)
                pen.line((left + margin - 4, y, left + margin, y), fill=0)
                pen.text((left + 4, y - 7), f"{value:g}", fill=0, font=font)
        tolerance_y = y_of(tolerance)
        for x in range(left + margin, left + panel_w - 16, 8):
            pen.line((x, tolerance_y, x + 4, tolerance_y), fill=(150, 150, 150))
        pen.text((left + margin + 4, bottom + 22), "UNet evaluations per image (log)", fill=0, font=font)
        for curve in (c for c in curves if c.guidance_scale == guidance):
            colour = PLOT_COLOURS[names.index((curve.scheduler_index, curve.scheduler)) % len(PLOT_COLOURS)]
            xy = [(x_of(p.nfe, left), y_of(p.image_distance)) for p in curve.points]
            if len(xy) > 1:
                pen.line(xy, fill=colour, width=2)
            for x, y in xy:
                pen.ellipse((x - 3, y - 3, x + 3, y + 3), fill=colour)
    top = panel_h + 20
    pen.text((8, top - 14), f"pixel RMSE to the reference (log); dashed: tolerance {tolerance:g}", fill=0, font=font)
    for row, (index, name) in enumerate(names):
        colour = PLOT_COLOURS[row % len(PLOT_COLOURS)]
        y = top + 6 + 18 * row
        pen.line((12, y + 7, 40, y + 7), fill=colour, width=3)
        pen.text((48, y), f"{index + 1}. {name}", fill=0, font=font)
    return image


def _mean(values: Any) -> float:
    items = list(values)
    return float(sum(items) / len(items))
