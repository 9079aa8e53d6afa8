"""The viewer: a static page (HTML, JS, CSS; no build step) that works through the public API like any client."""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

router = APIRouter(include_in_schema=False)

VIEWER_PACKAGE = ("service", "viewer")


@cache
def _index() -> str:
    return resources.files("service").joinpath("viewer/index.html").read_text()


def static_files() -> StaticFiles:
    """The page's scripts and styles, served from the installed package."""
    return StaticFiles(packages=[VIEWER_PACKAGE])


@router.get("/", response_class=HTMLResponse)
async def viewer_home() -> HTMLResponse:
    """Submit a comparison, see recent ones."""
    return HTMLResponse(_index(), headers={"Cache-Control": "no-cache"})


@router.get("/comparisons/{job_id}", response_class=HTMLResponse)
async def viewer_comparison(job_id: str = Path(max_length=64)) -> HTMLResponse:
    """Watch one comparison: the page reads the job and its event stream itself."""
    return HTMLResponse(_index(), headers={"Cache-Control": "no-cache"})
