"""A sweep's answer: error-vs-NFE curves and their plot, the cheapest cell near the reference, a ranking per budget,
X/Y grids.

Everything here is computed from finished runs' results (their reference distances and UNet call counts) and
their first final image; nothing runs the model.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from PIL import Image

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
from worker import charts, frames
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
    plot_key = writer.sweep_plot(charts.error_vs_nfe_png(curves, reference.tolerance)) if curves else None
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


def _mean(values: Any) -> float:
    items = list(values)
    return float(sum(items) / len(items))
