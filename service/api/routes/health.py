"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from service.api.deps import CallerDep, QueueDep, RedisDep, StorageDep, StoreDep, WorkersDep
from service.api.problems import PROBLEM_JSON, Problem
from service.api.schemas import Health, Readiness
from service.errors import StorageError
from service.prometheus_metrics import SchedlabCollector

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> Health:
    """The API process is up."""
    return Health(status="ok")


@router.get("/readyz", responses={503: {"model": Readiness}})
def readyz(response: Response, redis: RedisDep, workers: WorkersDep, queue: QueueDep, storage: StorageDep) -> Readiness:
    """Ready when Redis answers, storage is reachable and at least one worker is alive (with its model)."""
    try:
        redis_ok = bool(redis.ping())
    except Exception:
        redis_ok = False
    try:
        storage.check()
        storage_ok = True
    except StorageError:
        storage_ok = False
    live = workers.workers() if redis_ok else []
    ready = redis_ok and storage_ok and bool(live)
    if not ready:
        response.status_code = 503
    return Readiness(
        status="ready" if ready else "not ready",
        redis=redis_ok,
        storage=storage_ok,
        queue_depth=queue.depth() if redis_ok else None,
        workers=live,
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}, 401: {"model": Problem, "content": {PROBLEM_JSON: {}}}},
)
def metrics(store: StoreDep, workers: WorkersDep, queue: QueueDep, caller: CallerDep) -> Response:
    """Prometheus metrics: queue depth, jobs by status, job durations, UNet evaluations per second."""
    registry = CollectorRegistry()
    registry.register(SchedlabCollector(store, workers, queue))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
