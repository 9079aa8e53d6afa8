"""Dependencies injected into routes: settings, Redis, the job store, the queue, storage and the caller.

They are `async` because none of them blocks: FastAPI runs sync dependencies in a thread pool, and that hop
costs more than their work on the hot path of clients polling status.
"""

from __future__ import annotations

import hmac
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Annotated, NamedTuple

from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis import Redis

from service.api.events import JobEventHub
from service.jobs import JobEventReader, JobStore
from service.queue import ComparisonQueue
from service.settings import Settings, key_digest
from service.storage import Storage


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_store(request: Request) -> JobStore:
    store: JobStore = request.app.state.store
    return store


async def get_events(request: Request) -> JobEventReader:
    events: JobEventReader = request.app.state.events
    return events


async def get_event_hub(request: Request) -> JobEventHub:
    hub: JobEventHub = request.app.state.event_hub
    return hub


async def get_queue(request: Request) -> ComparisonQueue:
    queue: ComparisonQueue = request.app.state.queue
    return queue


async def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


class RenderedJob(NamedTuple):
    owner: str
    body: bytes


class FinishedJobs:
    """Rendered responses of finished jobs, which never change: the hot path of clients polling results."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple[str, str], RenderedJob] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, job_id: str, base_url: str) -> RenderedJob | None:
        with self._lock:
            entry = self._entries.get((job_id, base_url))
            if entry is not None:
                self._entries.move_to_end((job_id, base_url))
            return entry

    def put(self, job_id: str, base_url: str, owner: str, body: bytes) -> None:
        with self._lock:
            self._entries[(job_id, base_url)] = RenderedJob(owner, body)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)


class RenderedEvents:
    """Events as sent on the wire, rendered once per event and base URL, not once per client watching it.

    A stream's entries never change, so an event's rendering stays valid; the oldest are dropped past `capacity`.
    """

    def __init__(self, capacity: int = 8192) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple[str, str, str], bytes] = OrderedDict()

    def get(self, key: tuple[str, str, str], render: Callable[[], bytes]) -> bytes:
        # Called from the event loop only (the events route is async): no lock needed.
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = render()
            if len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        return entry


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
QueueDep = Annotated[ComparisonQueue, Depends(get_queue)]
EventsDep = Annotated[JobEventReader, Depends(get_events)]
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
