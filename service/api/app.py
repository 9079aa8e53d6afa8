"""The FastAPI application: thin routes over the job lifecycle, the workers' registry and storage. Never imports
torch, nor any module of `worker/`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute
from redis import Redis
from redis.asyncio import BlockingConnectionPool
from redis.asyncio import Redis as AsyncRedis
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import service
from service.api import problems
from service.api.deps import reject_unknown_query_parameters
from service.api.events import JobEventHub
from service.api.response_cache import FinishedJobs, RenderedEvents
from service.api.routes import comparisons, health, models, schedulers, viewer
from service.idempotency import IdempotencyKeys
from service.job_store import JobReader, JobStore
from service.lifecycle import JobLifecycle
from service.queue import ComparisonQueue
from service.reaper import Reaper
from service.settings import Settings, api_key_digests, get_settings
from service.storage import storage_from_settings
from service.workers import WorkerRegistry

logger = logging.getLogger(__name__)

JOB_READER_REDIS_CONNECTIONS = 64  # one per watched job (see service.api.events) plus short reads (status polls)


class BodySizeLimit:
    """Refuse request bodies over `max_bytes` with 413, whether or not they declare a Content-Length."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        # Read the whole (capped) body before the app sees it: an error raised from inside the app's body parsing
        # would reach the client as FastAPI's 400 "error parsing the body", not as this 413.
        messages: list[Message] = []
        received = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # the client went away; the app sees it
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                break
        pending = iter(messages)

        async def replay_then_receive() -> Message:
            return next(pending, None) or await receive()  # later reads wait for the client's disconnect

        await self.app(scope, replay_then_receive, send)

    async def _refuse(self, send: Send) -> None:
        body = (
            b'{"type":"https://schedlab.dev/problems/payload-too-large","title":"Payload too large",'
            b'"status":413,"detail":"the request body is over ' + str(self.max_bytes).encode() + b' bytes"}'
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _operation_id(route: APIRoute) -> str:
    return route.name  # stable, readable names for the generated client: create_comparison, get_comparison…


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not app.state.api_key_digests:
            logger.warning("SCHEDLAB_API_KEYS is not set: the API is open to anyone who can reach it")
        reaper = Reaper(app.state.store, app.state.workers, app.state.queue, settings.worker_dead_after_s)
        reaping = reaper.every(settings.worker_heartbeat_s)
        reaping.start()
        yield
        reaping.stop()
        await app.state.job_reader.redis.aclose()

    app = FastAPI(
        title="schedlab",
        version=service.__version__,
        summary="Compare Stable Diffusion schedulers side by side: frames, grids and measured differences.",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        dependencies=[Depends(reject_unknown_query_parameters)],
    )
    app.state.settings = settings
    app.state.redis = Redis.from_url(settings.redis_url, decode_responses=True)
    app.state.store = JobStore(app.state.redis, settings.key_prefix, settings.job_ttl_s)
    app.state.workers = WorkerRegistry(app.state.redis, settings.key_prefix)
    # Event streams wait on Redis (XREAD BLOCK, up to a heartbeat interval): an async client, so hundreds of
    # watchers cost no threads, whose socket timeout outlasts the wait (redis-py's default, 5 s, would not). Status
    # polls read through it too, on the event loop. A blocking pool: a burst waits for a connection, never fails.
    reader_pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        decode_responses=True,
        socket_timeout=settings.events_heartbeat_s + 10,
        max_connections=JOB_READER_REDIS_CONNECTIONS,
        timeout=30,
    )
    app.state.job_reader = JobReader(AsyncRedis(connection_pool=reader_pool), settings.key_prefix)
    app.state.event_hub = JobEventHub(app.state.job_reader, settings.events_heartbeat_s, settings.events_batch_window_s)
    app.state.queue = ComparisonQueue(
        Redis.from_url(settings.redis_url), settings.key_prefix, settings.job_timeout_s, settings.model
    )
    app.state.jobs = JobLifecycle(
        settings,
        app.state.store,
        app.state.queue,
        app.state.workers,
        IdempotencyKeys(app.state.redis, settings.key_prefix),
    )
    app.state.storage = storage_from_settings(settings)
    app.state.finished_jobs = FinishedJobs()
    app.state.rendered_events = RenderedEvents()
    app.state.api_key_digests = api_key_digests(settings)  # read once: a missing keys file fails at start
    problems.install(app)
    app.include_router(comparisons.router)
    app.include_router(schedulers.router)
    app.include_router(models.router)
    app.include_router(health.router)
    app.include_router(viewer.router)
    app.mount("/viewer", viewer.static_files(), name="viewer")
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app


def openapi_document(settings: Settings | None = None) -> dict[str, Any]:
    """The OpenAPI document, built without a server (for `schedlab openapi` and the drift test)."""
    return create_app(settings or Settings()).openapi()
