"""The README stays true: every setting documented. (Its figures: tests/test_readme_figures.py.)"""

from __future__ import annotations

from pathlib import Path

from service.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_readme_documents_every_setting() -> None:
    missing = [name for name in Settings.model_fields if f"`SCHEDLAB_{name.upper()}`" not in README]
    assert not missing
