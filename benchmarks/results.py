"""Benchmark results as committed data, and the README sections rendered from them.

A benchmark script measures, then calls `write_result(name, data)`: `docs/data/<name>.json` holds its figures with
the machine, the library versions and the command that produced them. The README shows those figures only inside
generated sections,

    <!-- generated:NAME -->
    ...rendered by benchmarks/readme_sections/NAME.py: render(data) -> markdown...
    <!-- /generated:NAME -->

so `python benchmarks/results.py` rewrites every section from the data and `tests/test_readme_figures.py` fails
when the README and the data disagree.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import re
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = REPO / "docs" / "data"
README = REPO / "README.md"
SECTION = re.compile(r"(<!-- generated:(?P<name>[a-z0-9_]+) -->\n)(?P<body>.*?)(<!-- /generated:(?P=name) -->)", re.S)


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def environment() -> dict[str, Any]:
    """What a reader needs to judge a figure: where, with what, and when it was measured."""
    return {
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "versions": {name: _version(name) for name in ("torch", "diffusers", "transformers", "schedlab")},
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv and sys.argv[0] else None,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_result(name: str, data: dict[str, Any], extra_environment: dict[str, Any] | None = None) -> Path:
    """Write `docs/data/<name>.json` (the figures plus their environment) and return its path."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"{name}.json"
    document = {"environment": {**environment(), **(extra_environment or {})}, **data}
    path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")
    return path


def read_result(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA_DIR / f"{name}.json").read_text())
    return data


def render_section(name: str) -> str:
    """The markdown of section `name`, from `docs/data/<name>.json` and `benchmarks/readme_sections/<name>.py`."""
    module = importlib.import_module(f"benchmarks.readme_sections.{name}")
    text: str = module.render(read_result(name))
    return text.rstrip("\n") + "\n"


def sections(readme: str) -> dict[str, str]:
    """Each generated section's name and current body in `readme`."""
    return {match["name"]: match["body"] for match in SECTION.finditer(readme)}


def render_readme(readme: str) -> str:
    """`readme` with every generated section rendered anew from its data."""
    return SECTION.sub(lambda m: m.group(1) + render_section(m["name"]) + m.group(4), readme)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    README.write_text(render_readme(README.read_text()))
    print(f"rendered {', '.join(sections(README.read_text())) or 'no sections'} in {README.name}")
