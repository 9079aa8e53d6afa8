"""Comparison jobs: submit, read, list, cancel, and their files."""

from __future__ import annotations

import functools
import hashlib
import mimetypes
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from service.api.deps import (
    CallerDep,
    EventHubDep,
    EventsDep,
    FinishedJobsDep,
    QueueDep,
    RenderedEventsDep,
    SettingsDep,
    StorageDep,
    StoreDep,
)
from service.api.problems import PROBLEM_JSON, Problem
from service.api.routes.models import resolve_model
from service.api.schemas import ComparisonPublic, ComparisonsPublic, file_urls, render, render_event
from service.contract import ComparisonSpec, JobStatus, Keys, Limits, check_spec
from service.errors import JobNotFoundError, JobStateError, QueueFullError, SpecError
from service.estimate import ComparisonEstimate, estimate
from service.jobs import JobEvent, JobRecord, JobStore
from service.queue import ComparisonQueue
from service.webhooks import check_webhook_url

router = APIRouter(prefix="/v1/comparisons", tags=["comparisons"])

QUEUE_FULL_RETRY_AFTER_S = 10
IDEMPOTENCY_TTL_S = 24 * 3600
JobId = Path(max_length=64, description="The comparison's id.")


def _problems(*codes: int) -> dict[int | str, dict[str, object]]:
    return {code: {"model": Problem, "content": {PROBLEM_JSON: {}}} for code in codes}


def _check_visible(store: JobStore, job_id: str, caller: str) -> None:
    if store.owner(job_id) != caller:  # another key's job does not exist, as far as this caller can tell
        raise JobNotFoundError(job_id)


def _visible(store: JobStore, job_id: str, caller: str) -> JobRecord:
    record = store.get(job_id)  # one read for the record and its owner
    if record.owner != caller:
        raise JobNotFoundError(job_id)
    return record


def _position(queue: ComparisonQueue, record: JobRecord) -> int | None:
    return queue.position(record.id, record.spec.model) if record.status is JobStatus.queued else None


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
    settings: SettingsDep,
    store: StoreDep,
    queue: QueueDep,
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
    spec, catalog = resolve_model(spec, settings, store)
    check_spec(spec, Limits.from_settings(settings), catalog)
    if dry_run:
        assert spec.model is not None  # resolve_model names it
        cost = estimate(spec, store.workers(), spec.model, catalog)
        return Response(cost.model_dump_json(), status_code=200, media_type="application/json")
    if spec.webhook is not None:
        if settings.webhook_secret is None:
            raise SpecError("webhook", "webhooks are disabled on this deployment (no SCHEDLAB_WEBHOOK_SECRET)")
        check_webhook_url(spec.webhook.url, settings.webhook_allowed_hosts)
    job_id = str(uuid.uuid4())
    if idempotency_key is not None:
        body_hash = hashlib.sha256(spec.model_dump_json().encode()).hexdigest()
        bound = store.claim_idempotency_key(caller, idempotency_key, body_hash, job_id, IDEMPOTENCY_TTL_S)
        if bound is not None:  # a retry of a request already accepted: the same job, whatever the queue holds
            try:
                record = _visible(store, bound, caller)
            except JobNotFoundError as error:
                raise JobStateError("a request with this Idempotency-Key is still being accepted") from error
            job = render(request, record, _position(queue, record))
            response.headers["Location"] = job.links.self
            return job
    created = False
    try:
        depth = queue.depth()
        if depth >= settings.max_queue_depth:
            raise QueueFullError(depth, retry_after_s=QUEUE_FULL_RETRY_AFTER_S)
        record = store.create(job_id, spec, owner=caller)
        created = True
        queue.enqueue(job_id, spec)
        # The check above races with concurrent submits; this one cannot: each job sees its own place.
        position = queue.position(job_id, spec.model)
        if position is not None and position >= settings.max_queue_depth:
            queue.remove(job_id, spec.model)
            raise QueueFullError(position, retry_after_s=QUEUE_FULL_RETRY_AFTER_S)
    except Exception:
        if created:
            store.delete(job_id)  # never show a job that no worker will ever see
        if idempotency_key is not None:
            store.release_idempotency_key(caller, idempotency_key)
        raise
    job = render(request, record, _position(queue, record))
    response.headers["Location"] = job.links.self
    return job


@router.get("", responses=_problems(401, 422))
def list_comparisons(
    request: Request,
    store: StoreDep,
    queue: QueueDep,
    caller: CallerDep,
    offset: int = Query(0, ge=0, le=1_000_000),
    limit: int = Query(20, ge=1, le=100),
) -> ComparisonsPublic:
    """The caller's most recent comparisons, newest first."""
    records, total = store.recent(caller, offset, limit)
    return ComparisonsPublic(
        data=[render(request, record, _position(queue, record)) for record in records],
        count=total,
        offset=offset,
        limit=limit,
    )


@router.get("/{job_id}", response_model=ComparisonPublic, responses=_problems(401, 404, 422))
def get_comparison(
    request: Request,
    store: StoreDep,
    queue: QueueDep,
    caller: CallerDep,
    finished: FinishedJobsDep,
    job_id: str = JobId,
) -> Response:
    """A comparison's status, progress and results so far."""
    base_url = str(request.base_url)
    cached = finished.get(job_id, base_url)
    if cached is not None and store.exists(job_id):
        if cached.owner != caller:
            raise JobNotFoundError(job_id)
        body = cached.body
    else:
        record = _visible(store, job_id, caller)
        body = render(request, record, _position(queue, record)).model_dump_json().encode()
        if record.status.is_terminal:  # a finished job no longer changes: render it once
            finished.put(job_id, base_url, record.owner, body)
    return Response(body, media_type="application/json")


@router.post("/{job_id}/cancel", status_code=202, responses=_problems(401, 404, 409, 422))
def cancel_comparison(
    request: Request, store: StoreDep, queue: QueueDep, caller: CallerDep, job_id: str = JobId
) -> ComparisonPublic:
    """Cancel: a queued job never runs; a running one stops at its next step and keeps its frames."""
    _check_visible(store, job_id, caller)
    canceled = store.cancel(job_id) is JobStatus.canceled
    record = store.get(job_id)
    if canceled:
        queue.remove(job_id, record.spec.model)
    return render(request, record, None)


def _stream_problems(*codes: int) -> dict[int | str, dict[str, object]]:
    # Refusals come before the stream starts, as problem+json; `model` would file them under text/event-stream.
    schema = {"$ref": "#/components/schemas/Problem"}
    return {code: {"description": "A problem", "content": {PROBLEM_JSON: {"schema": schema}}} for code in codes}


async def _watchable(events: EventsDep, caller: CallerDep, job_id: str = JobId) -> str:
    """The job's id, once the caller may see it: checked before the stream starts, so a refusal is a 404."""
    if await events.owner(job_id) != caller:
        raise JobNotFoundError(job_id)
    return job_id


LastEventId = Header(
    alias="Last-Event-ID",
    pattern=r"^[0-9]{1,20}-[0-9]{1,20}$",
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

    def wire(event: JobEvent) -> bytes:
        data = render_event(file_url, event)
        return f"id: {event.id}\nevent: {event.type.value}\ndata: {data}\n\n".encode()

    async def stream() -> AsyncIterator[bytes]:
        # Written by hand rather than through fastapi.sse: each event is rendered once for every client that
        # watches it (RenderedEvents), and one API process then keeps up with hundreds of streams.
        async for event in hub.follow(job_id, last_event_id or "0-0"):
            if event is None:
                yield HEARTBEAT
            else:
                yield rendered.get((file_url.base, job_id, event.id), functools.partial(wire, event))

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # no proxy buffering either
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


@router.get(
    "/{job_id}/files/{path:path}",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "application/json": {}}}, **_problems(401, 404, 422)},
)
def get_comparison_file(
    store: StoreDep,
    storage: StorageDep,
    caller: CallerDep,
    job_id: str = JobId,
    path: str = Path(max_length=512),
) -> Response:
    """A file of a comparison: frame, final image, grid, contact sheet or manifest."""
    _check_visible(store, job_id, caller)
    data = storage.get_bytes(Keys.for_job(job_id).root + path)
    media_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return Response(data, media_type=media_type, headers={"Cache-Control": "private, max-age=3600"})
