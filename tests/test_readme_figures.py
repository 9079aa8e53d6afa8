"""Every figure in the README comes from committed data: generated sections equal their rendering."""

from __future__ import annotations

import pytest

from benchmarks import results

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
