"""The work queues: rq on Redis, one per served model, carrying each job's id to a free worker.

The payload is the id alone: the spec is stored once, in the job record (`service.jobs`), where the worker reads it.

Each worker serves one model and takes jobs from that model's queue only; the API puts a job on the queue of the
spec's `model` (resolved to the deployment's default before queueing).
"""

from __future__ import annotations

import logging
import threading

from redis import Redis
from rq import Queue
from rq.job import Job
from rq.serializers import JSONSerializer

from service.contract import JobStatus
from service.jobs import JobStore

logger = logging.getLogger(__name__)

JOB_FUNCTION = "worker.jobs.run_comparison"
MAX_ATTEMPTS = 2  # a job whose worker died is retried once on another worker, then failed


class ComparisonQueue:
    """One rq queue per model, named after the key prefix and the model. rq needs a bytes (non-decoding) connection.

    `default_model` is the deployment's default (SCHEDLAB_MODEL): specs without a `model` go to its queue, and
    `queue` is that queue (a worker's own, since a worker's SCHEDLAB_MODEL is the model it serves).
    """

    def __init__(self, connection: Redis, prefix: str, job_timeout_s: int, default_model: str = "demo") -> None:
        self.connection = connection
        self.prefix = prefix
        self.default_model = default_model
        self.job_timeout_s = job_timeout_s
        self._queues: dict[str, Queue] = {}
        self.queue = self.for_model(default_model)

    @property
    def name(self) -> str:
        return str(self.queue.name)

    def queue_name(self, model: str | None) -> str:
        return f"{self.prefix}-comparisons@{model or self.default_model}"

    def for_model(self, model: str | None) -> Queue:
        name = self.queue_name(model)
        if name not in self._queues:
            self._queues[name] = Queue(name, connection=self.connection, serializer=JSONSerializer)
        return self._queues[name]

    def enqueue(self, job_id: str, model: str | None) -> None:
        """Put a job on its model's queue; the rq job's only argument is the job's id."""
        self.for_model(model).enqueue(
            JOB_FUNCTION,
            job_id,
            job_id=job_id,
            job_timeout=self.job_timeout_s,
            result_ttl=3600,
            failure_ttl=24 * 3600,
            description=f"comparison {job_id}",
        )

    def depth(self) -> int:
        """Jobs waiting, summed over every model's queue."""
        own = f"{self.prefix}-comparisons@"
        names = {self.queue.name} | {q.name for q in Queue.all(connection=self.connection) if q.name.startswith(own)}
        return sum(int(self.for_model(name.removeprefix(own)).count) for name in names)

    def position(self, job_id: str, model: str | None = None) -> int | None:
        position = self.for_model(model).get_job_position(job_id)
        return None if position is None else int(position)

    def remove(self, job_id: str, model: str | None = None) -> None:
        """Take a canceled job out of its queue (its record already says canceled; workers skip it anyway)."""
        self.for_model(model).remove(job_id)

    def job(self, job_id: str) -> Job | None:
        return self.queue.fetch_job(job_id)


def reap_dead_workers(store: JobStore, queue: ComparisonQueue, dead_after_s: float) -> list[str]:
    """Jobs running on a worker whose heartbeat expired: retried once elsewhere, else failed. Never stuck."""
    reaped = []
    for job_id in store.running_jobs():
        record = store.get(job_id)
        if record.status is not JobStatus.running or (record.worker and store.worker_alive(record.worker)):
            continue
        reason = (
            f"worker {record.worker} stopped responding (no heartbeat for {dead_after_s:g} s) "
            f"during attempt {record.attempts}"
        )
        if record.attempts < MAX_ATTEMPTS and store.requeue(job_id, reason):
            queue.enqueue(job_id, record.spec.model)
            logger.warning("job %s: %s; retrying", job_id, reason)
        elif store.finish(job_id, JobStatus.failed, error=f"{reason}; partial frames stay in storage"):
            logger.warning("job %s: %s; failed", job_id, reason)
        reaped.append(job_id)
    return reaped


class Reaper(threading.Thread):
    """Every `interval_s`, fails or retries the jobs of workers that stopped heartbeating.

    The API runs one, so dead workers' jobs end even when no worker is left; each worker's heartbeat is one too.
    """

    def __init__(self, store: JobStore, queue: ComparisonQueue, interval_s: float, dead_after_s: float) -> None:
        super().__init__(name=f"schedlab-{type(self).__name__.lower()}", daemon=True)
        self.store, self.queue = store, queue
        self.interval_s, self.dead_after_s = interval_s, dead_after_s
        self.stopped = threading.Event()

    def tick(self) -> None:
        reap_dead_workers(self.store, self.queue, self.dead_after_s)

    def run(self) -> None:
        while not self.stopped.wait(self.interval_s):
            try:
                self.tick()
            except Exception:  # a Redis hiccup must not stop the loop for good
                logger.exception("%s failed", self.name)

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)
