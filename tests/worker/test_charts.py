"""Charts as PNG artifacts: written beside the manifest, recorded in it, and readable images."""

from __future__ import annotations

import io
import json

from PIL import Image

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
