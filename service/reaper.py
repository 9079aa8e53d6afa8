"""The retry policy for jobs whose worker died: retried once on another worker, then failed, never left running.

A worker is dead when its heartbeat key has expired (`service.workers`). The API runs a reaper thread, so dead
workers' jobs end even when no worker is left; every worker runs one too, beside its heartbeat.
"""

from __future__ import annotations

import logging

from service.contract import JobStatus
from service.job_store import JobStore
from service.periodic import Periodic
from service.queue import ComparisonQueue
from service.workers import WorkerRegistry

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 2  # a job whose worker died is retried once on another worker, then failed


class Reaper:
    """Finds running jobs whose worker stopped heartbeating; retries or fails each."""

    def __init__(self, store: JobStore, workers: WorkerRegistry, queue: ComparisonQueue, dead_after_s: float) -> None:
        self.store, self.workers, self.queue = store, workers, queue
        self.dead_after_s = dead_after_s

    def reap(self) -> list[str]:
        """The jobs reaped now: each requeued for another attempt, or failed with the reason."""
        reaped = []
        for job_id in self.store.running_jobs():
            record = self.store.get(job_id)
            if record.status is not JobStatus.running or (record.worker and self.workers.alive(record.worker)):
                continue
            reason = (
                f"worker {record.worker} stopped responding (no heartbeat for {self.dead_after_s:g} s) "
                f"during attempt {record.attempts}"
            )
            if record.attempts < MAX_ATTEMPTS and self.store.requeue(job_id, reason):
                self.queue.enqueue(job_id, record.spec.model)
                logger.warning("job %s: %s; retrying", job_id, reason)
            elif self.store.finish(job_id, JobStatus.failed, error=f"{reason}; partial frames stay in storage"):
                logger.warning("job %s: %s; failed", job_id, reason)
            reaped.append(job_id)
        return reaped

    def every(self, interval_s: float) -> Periodic:
        """A thread (not started) that reaps every `interval_s`."""
        return Periodic("schedlab-reaper", interval_s, self.reap)
