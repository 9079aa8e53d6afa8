"""`schedlab submit --out`: the files come from the server, and so do their paths."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from rich.console import Console

from service.submit import UnsafeDownloadPath, _download


def job_with(*urls: str) -> SimpleNamespace:
    manifest, *grids = urls
    results = [SimpleNamespace(scheduler="euler", grid_url=url, final_images=[], frames=[]) for url in grids]
    return SimpleNamespace(manifest_url=manifest, contact_sheet_url=None, sweep=None, results=results)


def client_serving(body: bytes) -> SimpleNamespace:
    http = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, content=body)))
    return SimpleNamespace(get_httpx_client=lambda: http)


def test_files_land_under_out_by_the_paths_the_api_serves_them_at(tmp_path: Path) -> None:
    base = "http://api/v1/comparisons/j1/files/"
    _download(client_serving(b"x"), job_with(base + "manifest.json", base + "01-euler/grid.png"), tmp_path, Console())
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [
        "01-euler/grid.png",
        "manifest.json",
    ]


def test_a_path_that_leads_outside_out_is_refused_and_nothing_is_written_there(tmp_path: Path) -> None:
    out = tmp_path / "out"
    evil = "http://api/v1/comparisons/j1/files/../escaped.txt"  # out/../escaped.txt
    with pytest.raises(UnsafeDownloadPath, match="outside"):
        _download(
            client_serving(b"owned"), job_with("http://api/v1/comparisons/j1/files/manifest.json", evil), out, Console()
        )
    assert not (tmp_path / "escaped.txt").exists()
