"""The work queues: rq on Redis, one per served model, carrying each job's id to a free worker.

The payload is the id alone: the spec is stored once, in the job record (`service.job_store`), where the worker
reads it.

Each worker serves one model and takes jobs from that model's queue only; the API puts a job on the queue of the
spec's `model` (resolved to the deployment's default before queueing).
"""

from __future__ import annotations

from redis import Redis
from rq import Queue
from rq.job import Job
from rq.serializers import JSONSerializer

from service.redis_keys import RedisKeys

JOB_FUNCTION = "worker.rq_job.run_comparison"


class ComparisonQueue:
    """One rq queue per model, named after the key prefix and the model. rq needs a bytes (non-decoding) connection.

    `default_model` is the deployment's default (SCHEDLAB_MODEL): specs without a `model` go to its queue, and
    `queue` is that queue (a worker's own, since a worker's SCHEDLAB_MODEL is the model it serves).
    """

    def __init__(self, connection: Redis, prefix: str, job_timeout_s: int, default_model: str = "demo") -> None:
        self.connection = connection
        self.keys = RedisKeys(prefix)
        self.default_model = default_model
        self.job_timeout_s = job_timeout_s
        self._queues: dict[str, Queue] = {}
        self.queue = self.for_model(default_model)

    @property
    def name(self) -> str:
        return str(self.queue.name)

    def for_model(self, model: str | None) -> Queue:
        name = self.keys.queue_name(model or self.default_model)
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
        own = self.keys.queue_name_prefix
        names = {self.queue.name} | {q.name for q in Queue.all(connection=self.connection) if q.name.startswith(own)}
        return sum(int(self.for_model(name.removeprefix(own)).count) for name in names)

    def position(self, job_id: str, model: str | None = None) -> int | None:
        position = self.for_model(model).get_job_position(job_id)
        return None if position is None else int(position)

    def remove(self, job_id: str, model: str | None = None) -> None:
        """Withdraw a job that will never run (canceled while queued, or refused at submission): out of its queue,
        and rq's own record of it deleted, which nothing would ever expire (rq expires only jobs that ran)."""
        queue = self.for_model(model)
        job = queue.fetch_job(job_id)
        if job is None:
            queue.remove(job_id)
        else:
            job.delete(remove_from_queue=True)

    def job(self, job_id: str) -> Job | None:
        return self.queue.fetch_job(job_id)
