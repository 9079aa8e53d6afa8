"""Charts as PNG artifacts: written beside the manifest, recorded in it, readable images drawn from their data."""

from __future__ import annotations

import io
import json

from PIL import Image

from service.contract import CurvePoint, ErrorCurve
from tests.support import run_spec
from worker import charts
from worker.engine import ComparisonEngine


def test_convergence_and_similarity_charts_are_stored_and_recorded(engine: ComparisonEngine) -> None:
    outcome, sink = run_spec(engine, schedulers=[{"name": "euler"}, {"name": "heun"}], capture={"every": 2})
    assert outcome.manifest.charts == {
        "convergence": "charts/convergence.png",
        "similarity": "charts/similarity.png",
    }
    assert json.loads(sink.files["manifest.json"])["charts"] == outcome.manifest.charts
    for key in outcome.manifest.charts.values():
        image = Image.open(io.BytesIO(sink.files[key]))
        assert image.format == "PNG" and image.width > 300 and image.height > 150


def test_a_chart_shows_its_data() -> None:
    # The same axes with another curve give another picture: the chart is drawn from the numbers it is given.
    flat = charts.convergence_png([("1. euler", [(5, 0.5), (10, 0.0)])], 10, 0.25)
    steep = charts.convergence_png([("1. euler", [(5, 0.9), (10, 0.0)])], 10, 0.25)
    assert flat != steep
    low = charts.similarity_png(["a", "b"], [[100.0, 10.0], [10.0, 100.0]])
    assert low != charts.similarity_png(["a", "b"], [[100.0, 30.0], [30.0, 100.0]])


def _curve(index: int, name: str, guidance: float, distances: list[float]) -> ErrorCurve:
    points = [
        CurvePoint(steps=steps, nfe=steps, latent_distance=d * 4, image_distance=d, image_distance_mean=d)
        for steps, d in zip([5, 10, 20, 40], distances, strict=True)
    ]
    return ErrorCurve(
        scheduler_index=index,
        scheduler=name,
        stochastic=False,
        guidance_scale=guidance,
        points=points,
        cheapest_within_tolerance=None,
    )


def _colours(png: bytes, right: float = 1.0) -> set[tuple[int, int, int]]:
    """The colours drawn in the image, or in its left `right` share."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image = image.crop((0, 0, int(image.width * right), image.height))
    return {colour for _, colour in image.getcolors(1 << 20)}


def test_the_error_vs_nfe_plot_shows_each_scheduler_in_its_viewer_colour_one_panel_per_guidance() -> None:
    curves = [
        _curve(index, name, guidance, [0.08, 0.03, 0.01, 0.005])
        for guidance in (4.0, 7.5)
        for index, name in enumerate(["dpmpp_2m", "euler", "euler_a"])
    ]
    png = charts.error_vs_nfe_png(curves, 0.05)
    drawn = _colours(png)
    palette = [tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in charts.COLOURS]
    assert set(palette[:3]) <= drawn  # the viewer's colours, by scheduler index: the page and the plot agree
    assert palette[3] not in drawn  # no colour for a scheduler the sweep does not have
    one_panel = charts.error_vs_nfe_png([c for c in curves if c.guidance_scale == 4.0], 0.05)
    assert Image.open(io.BytesIO(png)).width > 1.6 * Image.open(io.BytesIO(one_panel)).width
    # Drawn from the numbers: a scheduler farther from the reference gives another picture.
    farther = [*curves[:-1], _curve(2, "euler_a", 7.5, [0.09, 0.09, 0.09, 0.09])]
    assert charts.error_vs_nfe_png(farther, 0.05) != png
    # Each curve in its guidance's panel only: the left panel (CFG 4) does not show a scheduler swept at 7.5 alone.
    split = [_curve(0, "dpmpp_2m", 4.0, [0.08, 0.03, 0.01, 0.005]), _curve(1, "euler", 7.5, [0.08, 0.03, 0.01, 0.005])]
    left = _colours(charts.error_vs_nfe_png(split, 0.05), right=0.4)
    assert palette[0] in left and palette[1] not in left
