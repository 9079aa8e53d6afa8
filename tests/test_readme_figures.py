"""Every figure in the README comes from committed data: generated sections equal their rendering."""

from __future__ import annotations

import json
import re

import pytest

from benchmarks import results
from worker.demo_model import DEMO_MODEL_DIR

README = results.README.read_text()
SECTIONS = results.sections(README)


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_generated_readme_section_matches_its_data(name: str) -> None:
    assert SECTIONS[name] == results.render_section(name), (
        f"README section {name!r} differs from docs/data/{name}.json: run `python benchmarks/results.py`"
    )


def test_every_committed_result_is_shown_in_the_readme() -> None:
    committed = {path.stem for path in results.DATA_DIR.glob("*.json")}
    assert committed <= set(SECTIONS), f"results with no README section: {sorted(committed - set(SECTIONS))}"


def test_section_markers_are_found() -> None:
    body = "a\n<!-- generated:demo -->\nold\n<!-- /generated:demo -->\nb\n"
    assert results.sections(body) == {"demo": "old\n"}


def test_readme_stiffness_figures_are_the_demo_model_cards() -> None:
    """The README's stiffness figures are the ones `train_demo_model.py --card-only` wrote for the committed model."""
    stiffness = json.loads((DEMO_MODEL_DIR / "schedlab-model.json").read_text())["stiffness"]
    readme = " ".join(README.split())
    quoted = re.search(r"median ([\d.]+) over the 30 steps, ([\d.]+) at most, against ([\d.]+) and ([\d.]+)", readme)
    assert quoted, "the README no longer quotes the demo model's stiffness"
    expected = ("median_h_lambda", "max_h_lambda", "unguided_median_h_lambda", "unguided_max_h_lambda")
    assert [float(value) for value in quoted.groups()] == [round(stiffness[key], 2) for key in expected]
    previous = re.search(rf"with {stiffness['previous_label']}'s ([\d.]+) beside it", readme)
    assert previous and float(previous.group(1)) == round(stiffness["previous"], 2)
