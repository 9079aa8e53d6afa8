"""Comparison jobs: submit, read, list, cancel, and their files."""

from __future__ import annotations

import mimetypes
import uuid

from fastapi import APIRouter, Path, Query, Request, Response

from service.api.deps import CallerDep, QueueDep, SettingsDep, StorageDep, StoreDep
from service.api.problems import PROBLEM_JSON, Problem
from service.api.schemas import ComparisonPublic, ComparisonsPublic, render
from service.contract import ComparisonSpec, JobStatus, Keys, Limits, check_spec
from service.errors import JobNotFoundError, QueueFullError
from service.jobs import JobRecord, JobStore
from service.queue import ComparisonQueue

router = APIRouter(prefix="/v1/comparisons", tags=["comparisons"])

QUEUE_FULL_RETRY_AFTER_S = 10
JobId = Path(max_length=64, description="The comparison's id.")


def _problems(*codes: int) -> dict[int | str, dict[str, object]]:
    return {code: {"model": Problem, "content": {PROBLEM_JSON: {}}} for code in codes}


def _visible(store: JobStore, job_id: str, caller: str) -> JobRecord:
    record = store.get(job_id)
    if record.owner != caller:  # another key's job does not exist, as far as this caller can tell
        raise JobNotFoundError(job_id)
    return record


def _position(queue: ComparisonQueue, record: JobRecord) -> int | None:
    return queue.position(record.id) if record.status is JobStatus.queued else None


@router.post("", status_code=202, responses=_problems(401, 413, 422, 429))
def create_comparison(
    spec: ComparisonSpec,
    request: Request,
    response: Response,
    settings: SettingsDep,
    store: StoreDep,
    queue: QueueDep,
    caller: CallerDep,
) -> ComparisonPublic:
    """Queue a comparison. Answers at once with the job; poll its `links.self`."""
    check_spec(spec, Limits.from_settings(settings))
    depth = queue.depth()
    if depth >= settings.max_queue_depth:
        raise QueueFullError(depth, retry_after_s=QUEUE_FULL_RETRY_AFTER_S)
    job_id = str(uuid.uuid4())
    record = store.create(job_id, spec, owner=caller)
    try:
        queue.enqueue(job_id, spec)
    except Exception:
        store.delete(job_id)  # never show a job that no worker will ever see
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


@router.get("/{job_id}", responses=_problems(401, 404, 422))
def get_comparison(
    request: Request, store: StoreDep, queue: QueueDep, caller: CallerDep, job_id: str = JobId
) -> ComparisonPublic:
    """A comparison's status, progress and results so far."""
    record = _visible(store, job_id, caller)
    return render(request, record, _position(queue, record))


@router.post("/{job_id}/cancel", status_code=202, responses=_problems(401, 404, 409, 422))
def cancel_comparison(
    request: Request, store: StoreDep, queue: QueueDep, caller: CallerDep, job_id: str = JobId
) -> ComparisonPublic:
    """Cancel: a queued job never runs; a running one stops at its next step and keeps its frames."""
    _visible(store, job_id, caller)
    if store.cancel(job_id) is JobStatus.canceled:
        queue.remove(job_id)
    return render(request, store.get(job_id), None)


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
    _visible(store, job_id, caller)
    data = storage.get_bytes(Keys.for_job(job_id).root + path)
    media_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return Response(data, media_type=media_type, headers={"Cache-Control": "private, max-age=3600"})
