"""The committed OpenAPI document and generated client are what the app serves."""

from __future__ import annotations

import filecmp
import json
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from service.api.app import create_app, openapi_document
from service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_committed_openapi_matches_the_app(tmp_path: Path) -> None:
    committed = json.loads((ROOT / "openapi" / "openapi.json").read_text())
    assert committed == openapi_document(), "run `make openapi` and commit openapi/"
    served = TestClient(create_app(Settings(storage_url=tmp_path.as_uri()))).get("/openapi.json").json()
    assert committed == served


def test_committed_client_is_generated_from_the_committed_document(tmp_path: Path) -> None:
    generator = Path(sys.executable).parent / "openapi-python-client"
    subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(ROOT / "openapi" / "openapi.json"),
            "--output-path",
            str(tmp_path / "client"),
            "--config",
            str(ROOT / "openapi" / "client-config.yaml"),
            "--meta",
            "setup",
        ],
        check=True,
        capture_output=True,
    )
    fresh, committed = tmp_path / "client" / "schedlab_client", ROOT / "openapi" / "schedlab-client" / "schedlab_client"
    differences = _diff(filecmp.dircmp(fresh, committed))
    assert not differences, f"run `make openapi` and commit openapi/: {differences}"


def _diff(comparison: filecmp.dircmp[str]) -> list[str]:
    found = [*comparison.left_only, *comparison.right_only, *comparison.diff_files]
    found = [name for name in found if name != "__pycache__"]
    for sub in comparison.subdirs.values():
        found += _diff(sub)
    return found
