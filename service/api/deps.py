"""Dependencies injected into routes: settings, Redis, the job lifecycle, the workers, the queue, storage, the
response caches and the caller.

They are `async` because none of them blocks: FastAPI runs sync dependencies in a thread pool, and that hop
costs more than their work on the hot path of clients polling status.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis import Redis

from service.api.events import JobEventHub
from service.api.response_cache import FinishedJobs, RenderedEvents
from service.job_store import JobReader, JobStore
from service.lifecycle import JobLifecycle
from service.queue import ComparisonQueue
from service.settings import Settings, key_digest
from service.storage import Storage
from service.workers import WorkerRegistry


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_store(request: Request) -> JobStore:
    store: JobStore = request.app.state.store
    return store


async def get_jobs(request: Request) -> JobLifecycle:
    jobs: JobLifecycle = request.app.state.jobs
    return jobs


async def get_workers(request: Request) -> WorkerRegistry:
    workers: WorkerRegistry = request.app.state.workers
    return workers


async def get_job_reader(request: Request) -> JobReader:
    reader: JobReader = request.app.state.job_reader
    return reader


async def get_event_hub(request: Request) -> JobEventHub:
    hub: JobEventHub = request.app.state.event_hub
    return hub


async def get_queue(request: Request) -> ComparisonQueue:
    queue: ComparisonQueue = request.app.state.queue
    return queue


async def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


async def get_rendered_events(request: Request) -> RenderedEvents:
    rendered: RenderedEvents = request.app.state.rendered_events
    return rendered


async def get_finished_jobs(request: Request) -> FinishedJobs:
    finished: FinishedJobs = request.app.state.finished_jobs
    return finished


async def get_redis(request: Request) -> Redis:
    redis: Redis = request.app.state.redis
    return redis


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[JobStore, Depends(get_store)]
JobsDep = Annotated[JobLifecycle, Depends(get_jobs)]
WorkersDep = Annotated[WorkerRegistry, Depends(get_workers)]
QueueDep = Annotated[ComparisonQueue, Depends(get_queue)]
JobReaderDep = Annotated[JobReader, Depends(get_job_reader)]
EventHubDep = Annotated[JobEventHub, Depends(get_event_hub)]
StorageDep = Annotated[Storage, Depends(get_storage)]
RedisDep = Annotated[Redis, Depends(get_redis)]
FinishedJobsDep = Annotated[FinishedJobs, Depends(get_finished_jobs)]
RenderedEventsDep = Annotated[RenderedEvents, Depends(get_rendered_events)]

_bearer = HTTPBearer(auto_error=False, description="An API key from SCHEDLAB_API_KEYS.")


async def get_key_digests(request: Request) -> list[str]:
    digests: list[str] = request.app.state.api_key_digests
    return digests


async def get_caller(
    digests: Annotated[list[str], Depends(get_key_digests)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The caller's identity: a digest of their API key, or "" when the service runs open (no keys set)."""
    if not digests:
        return ""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "an API key is required: Authorization: Bearer <key>", {"WWW-Authenticate": "Bearer"})
    presented = key_digest(credentials.credentials)
    # Compare digests in constant time, against every key, so timing says nothing about which keys exist.
    matched = False
    for digest in digests:
        matched |= hmac.compare_digest(presented, digest)
    if not matched:
        raise HTTPException(401, "unknown API key", {"WWW-Authenticate": "Bearer"})
    return presented[:32]


CallerDep = Annotated[str, Depends(get_caller)]


async def reject_unknown_query_parameters(request: Request) -> None:
    """Unknown query parameters are a 422, as unknown body fields are: a typo should not pass silently."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = {param.alias for param in dependant.query_params}
    for dependency in dependant.dependencies:
        known |= {param.alias for param in dependency.query_params}
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise RequestValidationError(
            [{"loc": ("query", name), "msg": "unknown query parameter", "type": "extra_forbidden"} for name in unknown]
        )
