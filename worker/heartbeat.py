"""This worker's heartbeat: its model, device, schedulers, current job, throughput and cost model, renewed every few
seconds.

The API and the other workers read it to tell live workers from dead ones (`service.reaper`), and its cost model
prices dry runs (`service.estimate`).
"""

from __future__ import annotations

from service.workers import WorkerInfo, WorkerRegistry
from worker.rq_job import WorkerRuntime

# A model stays registered (its specs accepted and queued) this long after its last worker's heartbeat, so jobs
# submitted while its workers restart wait in its queue instead of being refused.
MODEL_REGISTRATION_TTL_S = 3600.0


class Heartbeat:
    """Publishes `info`, refreshed from the runtime, with a time to live of `ttl_s` (the dead-after time)."""

    def __init__(self, workers: WorkerRegistry, runtime: WorkerRuntime, info: WorkerInfo, ttl_s: float) -> None:
        self.workers = workers
        self.runtime = runtime
        self.info = info
        self.ttl_s = ttl_s

    def beat(self) -> None:
        self.info.current_job = self.runtime.current_job
        self.info.jobs_done = self.runtime.jobs_done
        self.info.evals_per_s = round(self.runtime.evals_per_s, 3) if self.runtime.evals_per_s else None
        self.info.cost_model = self.runtime.cost_model
        self.workers.heartbeat(self.info, self.ttl_s)
        if self.info.serves is not None:
            self.workers.refresh_model(self.info.serves, MODEL_REGISTRATION_TTL_S)

    def stop(self) -> None:
        """Say this worker is gone at once, instead of letting its heartbeat expire."""
        self.workers.forget(self.info.name)
