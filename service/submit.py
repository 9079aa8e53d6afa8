"""`schedlab submit`: the generated client at work — submit, follow progress, download the results."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

if TYPE_CHECKING:
    from schedlab_client import AuthenticatedClient

    from service.estimate import ComparisonEstimate


def _client(url: str, api_key: str | None) -> AuthenticatedClient:
    """The generated client for the API at `url`.

    Every route declares the bearer scheme (optional on an open deployment), so the generated functions take an
    `AuthenticatedClient`. Without a key its Authorization header is empty (no "Bearer " prefix: a header value
    may not end in a space): an open service ignores it, a keyed one refuses it as a missing key.
    """
    from schedlab_client import AuthenticatedClient

    if api_key:
        return AuthenticatedClient(base_url=url, token=api_key)
    return AuthenticatedClient(base_url=url, token="", prefix="")


def estimate_comparison(
    url: str, api_key: str | None, body: dict[str, Any], *, console: Console
) -> ComparisonEstimate | None:
    """`POST /v1/comparisons?dry_run=true` through the generated client: the cost, nothing queued."""
    from schedlab_client.api.comparisons import create_comparison
    from schedlab_client.models import ComparisonSpec

    from service.estimate import ComparisonEstimate

    response = create_comparison.sync_detailed(
        client=_client(url, api_key), body=ComparisonSpec.from_dict(body), dry_run=True
    )
    if response.status_code != 200:
        console.print(f"[red]refused ({response.status_code}):[/red] {response.content.decode(errors='replace')}")
        return None
    return ComparisonEstimate.model_validate_json(response.content)


def submit_comparison(
    url: str, api_key: str | None, body: dict[str, Any], *, wait: bool, out: Path | None, console: Console
) -> int:
    try:
        from schedlab_client.api.comparisons import create_comparison, get_comparison
        from schedlab_client.models import ComparisonPublic, ComparisonSpec, JobStatus
    except ImportError:  # pragma: no cover - the client is installed with the project's dev setup
        console.print("[red]error:[/red] the generated client is not installed: pip install -e openapi/schedlab-client")
        return 2

    client = _client(url, api_key)
    response = create_comparison.sync_detailed(client=client, body=ComparisonSpec.from_dict(body))
    if not isinstance(response.parsed, ComparisonPublic):
        console.print(f"[red]refused ({response.status_code}):[/red] {response.content.decode(errors='replace')}")
        return 1
    job = response.parsed
    console.print(f"submitted {job.id} ({job.status.value}); follow it at {job.links.self_}")
    if not wait:
        return 0

    terminal = {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console) as bar:
        task = bar.add_task("queued", total=None)
        while job.status not in terminal:
            time.sleep(0.5)
            current = get_comparison.sync(job.id, client=client)
            if not isinstance(current, ComparisonPublic):
                continue
            job = current
            done = sum(p.steps_done for p in job.progress)
            total = sum(p.steps_total for p in job.progress) or None  # every cell's steps, the reference's too
            running = next((p.scheduler for p in job.progress if 0 < p.steps_done < p.steps_total), job.status.value)
            bar.update(task, completed=done, total=total, description=str(running))
    console.print(f"{job.id}: {job.status.value}" + (f" — {job.error}" if job.error else ""))
    if out is not None and job.manifest_url:
        try:
            _download(client, job, out, console)
        except UnsafeDownloadPath as error:
            console.print(f"[red]error:[/red] {error}")
            return 1
    return 0 if job.status is JobStatus.SUCCEEDED else 1


class UnsafeDownloadPath(Exception):
    """A file URL whose path would be written outside the download folder."""


def _download(client: Any, job: Any, out: Path, console: Console) -> None:
    """Everything the job wrote, under `out`, by the paths the API serves them at."""
    urls = [job.manifest_url, job.contact_sheet_url]
    if job.sweep:
        urls += [job.sweep.plot_url, job.sweep.answer_url, *(grid.url for grid in job.sweep.grids)]
    for result in job.results:
        urls += [result.grid_url, *result.final_images, *(frame.url for frame in result.frames)]
    http = client.get_httpx_client()
    root = out.resolve()
    for url in filter(None, urls):
        relative = urlparse(url).path.split("/files/", 1)[1]
        target = (root / relative).resolve()
        if not target.is_relative_to(root):  # the server names the paths: one must not write outside `out`
            raise UnsafeDownloadPath(f"refusing to write {url}: its path leads outside {out}")
        target.parent.mkdir(parents=True, exist_ok=True)
        response = http.get(url)
        response.raise_for_status()
        target.write_bytes(response.content)
    console.print(f"downloaded {len([u for u in urls if u])} files to {out}")
    for result in job.results:
        if result.grid_url and not job.sweep:
            console.print(f"  grid {result.scheduler}: {out / urlparse(result.grid_url).path.split('/files/', 1)[1]}")
    if job.sweep:
        for grid in job.sweep.grids:
            console.print(f"  sweep grid: {out / urlparse(grid.url).path.split('/files/', 1)[1]}")
