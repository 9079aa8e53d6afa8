"""`schedlab worker`: load the model once, then take comparison jobs from the queue until told to stop.

The worker runs jobs with rq's `SimpleWorker`, in its own process, without forking a child per job: CUDA does not
survive `fork()` and reloading the model per job would cost minutes. What a forking worker would give for free
we make up for here: a job timeout (rq's, enforced in-process with SIGALRM), one job at a time per GPU, a
heartbeat that the API and other workers read to fail or retry the jobs of a worker that died, warm shutdown on
SIGTERM (rq's: the current job finishes, then the worker exits) and the container's restart policy.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid

from redis import Redis
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from service.contract import ComparisonSpec, Limits, StorageLayout, utcnow
from service.job_store import JobStore
from service.periodic import Periodic
from service.queue import ComparisonQueue
from service.reaper import Reaper
from service.settings import Settings
from service.storage import MemoryStorage, storage_from_settings
from service.webhooks import WebhookSender
from service.workers import WorkerInfo, WorkerRegistry
from worker.engine import ComparisonEngine, ComparisonOutcome
from worker.heartbeat import MODEL_REGISTRATION_TTL_S, Heartbeat
from worker.model import load_model
from worker.rq_job import WorkerRuntime, install_runtime

logger = logging.getLogger(__name__)


def warm_up(engine: ComparisonEngine) -> list[tuple[ComparisonSpec, ComparisonOutcome]]:
    """Short runs before the first job, so the first user does not pay for lazy initialisation.

    After a first, cold run, three warm ones measure what the cost model (`service.contract.cost`) is first fitted
    to, until real jobs refine it: one image, then sixteen in one UNet batch (two schedulers of eight: 32 samples
    with guidance), which tell the fixed cost of a UNet call from the cost of its samples; then one image with a
    frame at every step, which tells the cost of a decoded image. Returns the warm runs' specs and outcomes.
    """
    scheduler = {"name": "flow_euler" if engine.model.family.flow_matching else "euler"}
    cold = ComparisonSpec(prompt="warm-up", num_images=1, steps=2, schedulers=[scheduler], capture={"every": 1})
    engine.run(cold, MemoryStorage(), StorageLayout(""))
    measured = [
        ComparisonSpec(prompt="warm-up", num_images=1, steps=10, schedulers=[scheduler], capture={"steps": [10]}),
        ComparisonSpec(
            prompt="warm-up", num_images=8, steps=10, schedulers=[scheduler, scheduler], capture={"steps": [10]}
        ),
        ComparisonSpec(prompt="warm-up", num_images=1, steps=10, schedulers=[scheduler], capture={"every": 1}),
    ]
    return [(spec, engine.run(spec, MemoryStorage(), StorageLayout(""))) for spec in measured]


def run_worker(settings: Settings, name: str | None = None, burst: bool = False) -> None:
    """`schedlab worker`: load the model, register it, heartbeat, then run jobs from its queue one at a time until
    SIGTERM (after the current job) or, with `burst`, until the queue is empty."""
    name = name or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"

    # 1. Connections: our job store and worker registry (text) and rq (bytes)
    redis = Redis.from_url(settings.redis_url, decode_responses=True)
    store = JobStore(redis, settings.key_prefix, settings.job_ttl_s)
    workers = WorkerRegistry(redis, settings.key_prefix)
    rq_redis = Redis.from_url(settings.redis_url)
    queue = ComparisonQueue(rq_redis, settings.key_prefix, settings.job_timeout_s, settings.model)
    storage = storage_from_settings(settings)
    storage.check()

    # 2. The model, loaded once for every job of this process
    engine = ComparisonEngine(load_model(settings), Limits.from_settings(settings), settings.max_batch)
    measured = warm_up(engine) if settings.warmup else []
    webhooks = None
    if settings.webhook_secret is not None:
        webhooks = WebhookSender(
            settings.webhook_secret.get_secret_value(),
            settings.webhook_allowed_hosts,
            settings.webhook_max_attempts,
            settings.webhook_backoff_s,
        )
    runtime = WorkerRuntime(name, engine, store, storage, webhooks)
    for spec, outcome in measured:
        runtime.record_run(spec, outcome)
    install_runtime(runtime)

    # 3. Register the model's catalog (the API checks specs for this model against it), then heartbeat: tells the
    #    API this worker is alive and what it runs
    workers.register_model(engine.catalog, MODEL_REGISTRATION_TTL_S)
    info = WorkerInfo(
        name=name,
        model=engine.model.describe(),
        schedulers=[entry.id for entry in engine.catalog.available()],
        serves=settings.model,
        pid=os.getpid(),
        host=socket.gethostname(),
        started_at=utcnow(),
    )
    heartbeat = Heartbeat(workers, runtime, info, settings.worker_dead_after_s)
    reaper = Reaper(store, workers, queue, settings.worker_dead_after_s)
    runtime.after_job = heartbeat.beat
    heartbeat.beat()

    def beat_and_reap() -> None:
        heartbeat.beat()
        reaper.reap()  # every worker reaps too: dead workers' jobs end even while no API runs

    beating = Periodic("schedlab-heartbeat", settings.worker_heartbeat_s, beat_and_reap)
    beating.start()
    logger.info("worker %s ready: %s on %s", name, info.model["id"], info.model["device"])

    # 4. Work, one job at a time, in this process
    try:
        worker = SimpleWorker([queue.queue], connection=rq_redis, name=name, serializer=JSONSerializer)
        worker.work(burst=burst, with_scheduler=False, logging_level=logging.getLevelName(logger.getEffectiveLevel()))
    finally:
        beating.stop()
        heartbeat.stop()
        if webhooks is not None:
            webhooks.close()
        logger.info("worker %s stopped", name)
