"""Comparison jobs: submit, read, list, cancel, and their files."""

from __future__ import annotations

import functools
import mimetypes
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from service.api.deps import (
    CallerDep,
    EventHubDep,
    FinishedJobsDep,
    JobReaderDep,
    JobsDep,
    RenderedEventsDep,
    StorageDep,
)
from service.api.problems import PROBLEM_JSON, Problem
from service.api.schemas import ComparisonPublic, ComparisonsPublic, file_urls, render, render_event
from service.contract import ComparisonSpec, JobStatus, StorageLayout
from service.errors import JobNotFoundError, SpecError
from service.estimate import ComparisonEstimate
from service.job_store import JobEvent, JobRecord
from service.lifecycle import JobLifecycle
from service.storage import key_problem

router = APIRouter(prefix="/v1/comparisons", tags=["comparisons"])

JobId = Path(max_length=64, description="The comparison's id.")


def _problems(*codes: int) -> dict[int | str, dict[str, object]]:
    return {code: {"model": Problem, "content": {PROBLEM_JSON: {}}} for code in codes}


def _rendered(request: Request, jobs: JobLifecycle, record: JobRecord) -> ComparisonPublic:
    return render(request, record, jobs.queue_position(record))


@router.post(
    "",
    status_code=202,
    response_model=ComparisonPublic,
    responses={
        200: {"model": ComparisonEstimate, "description": "With `dry_run=true`: the cost; nothing is queued."},
        **_problems(400, 401, 409, 413, 422, 429),
    },
)
def create_comparison(
    spec: ComparisonSpec,
    request: Request,
    response: Response,
    jobs: JobsDep,
    caller: CallerDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=255,
            description="Retry-safe submits: the same key and body return the same job; another body, 409.",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        Query(description="Answer with the cells, UNet evaluations and estimated duration (200); queue nothing."),
    ] = False,
) -> ComparisonPublic | Response:
    """Queue a comparison on its model's queue (202, poll its `links.self`), or with `dry_run=true` price it (200)."""
    checked = jobs.check(spec)
    if dry_run:
        return Response(jobs.estimate(checked).model_dump_json(), status_code=200, media_type="application/json")
    job = _rendered(request, jobs, jobs.submit(checked, caller, idempotency_key))
    response.headers["Location"] = job.links.self
    return job


@router.get("", responses=_problems(401, 422))
def list_comparisons(
    request: Request,
    jobs: JobsDep,
    caller: CallerDep,
    offset: int = Query(0, ge=0, le=1_000_000),
    limit: int = Query(20, ge=1, le=100),
) -> ComparisonsPublic:
    """The caller's most recent comparisons, newest first."""
    records, total = jobs.recent(caller, offset, limit)
    return ComparisonsPublic(
        data=[_rendered(request, jobs, record) for record in records],
        count=total,
        offset=offset,
        limit=limit,
    )


@router.get("/{job_id}", response_model=ComparisonPublic, responses=_problems(401, 404, 422))
async def get_comparison(
    request: Request,
    jobs: JobsDep,
    reader: JobReaderDep,
    caller: CallerDep,
    finished: FinishedJobsDep,
    job_id: str = JobId,
) -> Response:
    """A comparison's status, progress and results so far."""
    # The hot path, async on purpose: a thread hop per poll cost two more wake-ups, each a wait for a CPU when the
    # cores are busy (event streams, a CPU worker beside the API), and that wait was most of the poll's tail.
    base_url = str(request.base_url)
    cached = finished.get(job_id, base_url)
    if cached is not None and await reader.exists(job_id):
        if cached.owner != caller:
            raise JobNotFoundError(job_id)
        body = cached.body
    else:
        record = await reader.visible_record(job_id, caller)
        # Only a queued job has a position, and only it pays the thread hop (rq's client is sync).
        position = await run_in_threadpool(jobs.queue_position, record) if record.status is JobStatus.queued else None
        body = render(request, record, position).model_dump_json().encode()
        if record.status.is_terminal:  # a finished job no longer changes: render it once
            finished.put(job_id, base_url, record.owner, body)
    return Response(body, media_type="application/json")


@router.post("/{job_id}/cancel", status_code=202, responses=_problems(401, 404, 409, 422))
def cancel_comparison(request: Request, jobs: JobsDep, caller: CallerDep, job_id: str = JobId) -> ComparisonPublic:
    """Cancel: a queued job never runs; a running one stops at its next step and keeps its frames."""
    return render(request, jobs.cancel(job_id, caller), None)


def _stream_problems(*codes: int) -> dict[int | str, dict[str, object]]:
    # Refusals come before the stream starts, as problem+json; `model` would file them under text/event-stream.
    schema = {"$ref": "#/components/schemas/Problem"}
    return {code: {"description": "A problem", "content": {PROBLEM_JSON: {"schema": schema}}} for code in codes}


async def _watchable(reader: JobReaderDep, caller: CallerDep, job_id: str = JobId) -> str:
    """The job's id, once the caller may see it: checked before the stream starts, so a refusal is a 404."""
    if await reader.owner(job_id) != caller:
        raise JobNotFoundError(job_id)
    return job_id


LastEventId = Header(
    alias="Last-Event-ID",
    pattern=r"^[0-9]{1,19}-[0-9]{1,19}$",  # Redis stream ids are two unsigned 64-bit numbers: 19 digits always fit
    description="Resume after this event id (`<ms>-<seq>`, as sent in each event's `id`); browsers send it "
    "themselves on reconnect. Absent: the stream starts with the job's first event.",
)


SSE_EVENT_SCHEMA = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "event": {"type": "string"}, "data": {"type": "string"}},
}
HEARTBEAT = b": heartbeat\n\n"  # a comment line: keeps proxies from closing an idle stream


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Server-Sent Events: `queued`, `started`, `step`, `scheduler_done`, then one of "
            "`succeeded`, `failed`, `canceled`, each with an increasing `id` and JSON `data`.",
            "content": {"text/event-stream": {"itemSchema": SSE_EVENT_SCHEMA}},
        },
        **_stream_problems(401, 404, 422),
    },
)
async def stream_comparison_events(
    request: Request,
    hub: EventHubDep,
    rendered: RenderedEventsDep,
    job_id: Annotated[str, Depends(_watchable)],
    last_event_id: Annotated[str | None, LastEventId] = None,
) -> StreamingResponse:
    """The job's events as they happen, replayed from the start (or after `Last-Event-ID`); ends with the job."""
    file_url = file_urls(request, job_id)

    def wire_batch(batch: list[JobEvent]) -> bytes:
        return "".join(
            f"id: {event.id}\nevent: {event.type.value}\ndata: {render_event(file_url, event)}\n\n" for event in batch
        ).encode()

    async def stream() -> AsyncIterator[bytes]:
        # Written by hand rather than through fastapi.sse: each batch is rendered once for every client that
        # watches it (RenderedEvents), and one API process then keeps up with hundreds of streams.
        async for batch in hub.follow(job_id, last_event_id or "0-0"):
            if batch is None:
                yield HEARTBEAT
            else:  # one write per batch, not per event: hundreds of streams wake on each batch
                key = (file_url.base, job_id, batch[0].id, batch[-1].id)
                yield rendered.get(key, functools.partial(wire_batch, batch))

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # no proxy buffering either
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


@router.get(
    "/{job_id}/files/{path:path}",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "application/json": {}}}, **_problems(401, 404, 422)},
)
def get_comparison_file(
    jobs: JobsDep,
    storage: StorageDep,
    caller: CallerDep,
    job_id: str = JobId,
    path: str = Path(max_length=512),
) -> Response:
    """A file of a comparison: frame, final image, grid, contact sheet or manifest."""
    jobs.require_visible(job_id, caller)
    if (problem := key_problem(path)) is not None:  # the client's mistake (e.g. '..'), not storage's: a 422
        raise SpecError("path", f"{problem}: name a file inside the comparison, e.g. 01-euler/grid.png")
    data = storage.get_bytes(StorageLayout.for_job(job_id).root + path)
    media_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return Response(data, media_type=media_type, headers={"Cache-Control": "private, max-age=3600"})
