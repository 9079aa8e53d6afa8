"""Every Redis key and rq queue name of one deployment, derived from its key prefix (`SCHEDLAB_KEY_PREFIX`).

The one place key names are spelled: the job store, the idempotency keys, the worker registry, the queue, and the
tests' and benchmarks' clean-up all ask `RedisKeys`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import cast

from redis import Redis

# rq's own sets of every worker and every queue; a deployment's members carry its prefix in their names.
RQ_REGISTRIES = ("rq:workers", "rq:queues")


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

    # -- clean-up ----------------------------------------------------------------------------------------------
    def _job_ids(self, redis: Redis) -> set[str]:
        """The ids of every job record under this prefix."""
        pattern = self.job("*")
        return {key.rsplit(":", 1)[1] for key in _scan(redis, pattern) if key.count(":") == pattern.count(":")}

    def delete_everything(self, redis: Redis) -> int:
        """Delete every key of this prefix, rq's keys of its jobs and its rq registrations (tests, benchmarks).

        Returns how many keys were deleted. `redis` must decode responses.
        """
        job_ids = self._job_ids(redis)
        doomed = [
            key
            for key in _scan(redis, "*")
            if self.prefix in key or (key.startswith("rq:") and not job_ids.isdisjoint(key.split(":")))
        ]
        for start in range(0, len(doomed), 500):
            redis.delete(*doomed[start : start + 500])
        for registry in RQ_REGISTRIES:
            members = [member for member in cast(set[str], redis.smembers(registry)) if self.prefix in member]
            if members:
                redis.srem(registry, *members)
        return len(doomed)


def _scan(redis: Redis, pattern: str) -> list[str]:
    return [str(key) for key in redis.scan_iter(match=pattern, count=1000)]
