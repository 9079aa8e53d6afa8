"""Every Redis key and rq queue name of one deployment, derived from its key prefix (`SCHEDLAB_KEY_PREFIX`).

The one place key names are spelled: the job store, the idempotency keys, the worker registry and the queue all ask
`RedisKeys`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class RedisKeys:
    prefix: str

    # -- jobs --------------------------------------------------------------------------------------------------
    def job(self, job_id: str) -> str:
        """The job record (a hash)."""
        return f"{self.prefix}:job:{job_id}"

    def job_events(self, job_id: str) -> str:
        """The job's event stream."""
        return f"{self.job(job_id)}:events"

    def job_results(self, job_id: str) -> str:
        """The job's scheduler results (a list, in the order runs finished)."""
        return f"{self.job(job_id)}:results"

    def jobs_index(self, owner: str = "") -> str:
        """Job ids by creation time (a sorted set): every job, or one owner's."""
        return f"{self.prefix}:jobs:{owner}" if owner else f"{self.prefix}:jobs"

    @property
    def running_jobs(self) -> str:
        return f"{self.prefix}:running"

    @property
    def stats(self) -> str:
        """Counters for /metrics (a hash)."""
        return f"{self.prefix}:stats"

    def idempotency(self, owner: str, key: str) -> str:
        """The job an owner's Idempotency-Key is bound to (hashed: keys are the client's text)."""
        return f"{self.prefix}:idempotency:" + hashlib.sha256(f"{owner}\0{key}".encode()).hexdigest()

    # -- workers and the models they serve ---------------------------------------------------------------------
    def worker(self, name: str) -> str:
        """A live worker's heartbeat (expires when it stops beating)."""
        return f"{self.prefix}:worker:{name}"

    def model(self, name: str) -> str:
        """The catalog a served model's workers registered."""
        return f"{self.prefix}:model:{name}"

    # -- rq ----------------------------------------------------------------------------------------------------
    @property
    def queue_name_prefix(self) -> str:
        return f"{self.prefix}-comparisons@"

    def queue_name(self, model: str) -> str:
        """The rq queue of one served model."""
        return self.queue_name_prefix + model
