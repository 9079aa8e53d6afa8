"""Comparison jobs in Redis: their record, lifecycle transitions, progress, results, event stream and cancel flag.

rq moves the work; this store is the lifecycle users see (`queued → running → succeeded | failed | canceled`).
Every status change is a compare-and-set in Lua, so a cancel and a worker's finish cannot both win.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

from pydantic import BaseModel
from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from service.contract import (
    ComparisonSpec,
    JobEventType,
    JobProgress,
    JobStatus,
    SchedulerResult,
    StepRecord,
    SweepAnswer,
    utcnow,
)
from service.errors import JobNotFoundError, JobStateError
from service.redis_keys import RedisKeys


class ComparisonBase(BaseModel):
    """What a job's record and its public form (`ComparisonPublic`) both say."""

    id: str
    status: JobStatus
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int
    progress: list[JobProgress]
    error: str | None
    spec: ComparisonSpec


class JobRecord(ComparisonBase):
    """A job as stored; the API renders it with URLs."""

    owner: str = ""
    worker: str | None = None
    results: list[SchedulerResult] = []
    contact_sheet: str | None = None
    manifest: str | None = None
    sweep: SweepAnswer | None = None
    charts: dict[str, str] = {}
    cancel_requested: bool = False


# KEYS[1] = job hash, KEYS[2] = stats hash, KEYS[3] = the job's event stream; ARGV = expected status, new status,
# event type, event data (JSON), stream length cap, then field/value pairs. The event is appended in the same
# script as the change, so a stream holds a terminal event exactly when the job is finished.
# The stats hash counts jobs per status (current for queued/running, cumulative for the terminal ones).
_TRANSITION = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return -1 end
if status ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[2])
for i = 6, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HINCRBY', KEYS[2], 'jobs_' .. status, -1)
redis.call('HINCRBY', KEYS[2], 'jobs_' .. ARGV[2], 1)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'type', ARGV[3], 'data', ARGV[4])
return 1
"""

# A job's event stream keeps at most about this many events (32 schedulers x 1000 steps fit).
EVENTS_MAX_LEN = 40_000
# Fields of a lifecycle change that its event carries.
_EVENT_FIELDS = ("worker", "attempts", "started_at", "finished_at", "error", "contact_sheet", "manifest", "charts")


class JobEvent(BaseModel):
    """One entry of a job's event stream: its stream id (increasing), type and data (storage keys, not URLs)."""

    id: str
    type: JobEventType
    data: dict[str, Any]


def _record(job_id: str, fields: dict[str, str], results: list[str]) -> JobRecord:
    """A job's record from its hash and its results list (JobStore.get and JobReader.visible_record)."""
    if not fields:
        raise JobNotFoundError(job_id)
    return JobRecord(
        id=job_id,
        status=JobStatus(fields["status"]),
        created_at=fields["created_at"],
        started_at=fields.get("started_at") or None,
        finished_at=fields.get("finished_at") or None,
        spec=ComparisonSpec.model_validate_json(fields["spec"]),
        owner=fields.get("owner", ""),
        worker=fields.get("worker") or None,
        attempts=int(fields.get("attempts", 0)),
        error=fields.get("error") or None,
        progress=[JobProgress.model_validate(p) for p in json.loads(fields.get("progress", "[]"))],
        # In the spec's order: batched schedulers finish (and are added) in the order their runs end.
        results=sorted((SchedulerResult.model_validate_json(r) for r in results), key=lambda r: r.index),
        contact_sheet=fields.get("contact_sheet") or None,
        manifest=fields.get("manifest") or None,
        sweep=SweepAnswer.model_validate_json(fields["sweep"]) if fields.get("sweep") else None,
        charts=json.loads(fields.get("charts") or "{}"),
        cancel_requested=fields.get("cancel_requested") == "1",
    )


def _parse_events(entries: list[tuple[str, dict[str, str]]]) -> list[JobEvent]:
    return [
        JobEvent(id=entry_id, type=JobEventType(fields["type"]), data=json.loads(fields["data"]))
        for entry_id, fields in entries
    ]


class JobStore:
    """Job records (a hash each), indexed by creation time, every job's and each owner's (`RedisKeys`)."""

    def __init__(self, redis: Redis, prefix: str, job_ttl_s: int = 7 * 24 * 3600) -> None:
        self.redis = redis
        self.keys = RedisKeys(prefix)
        self.job_ttl_s = job_ttl_s
        self._transition = redis.register_script(_TRANSITION)

    # -- lifecycle -------------------------------------------------------------------------------------------
    def create(self, job_id: str, spec: ComparisonSpec, owner: str = "") -> JobRecord:
        record = JobRecord(
            id=job_id,
            status=JobStatus.queued,
            created_at=utcnow(),
            started_at=None,
            finished_at=None,
            attempts=0,
            progress=[],
            error=None,
            spec=spec,
            owner=owner,
        )
        score = record.created_at.timestamp()
        with self.redis.pipeline() as pipe:
            pipe.hset(
                self.keys.job(job_id),
                mapping={
                    "status": record.status.value,
                    "created_at": record.created_at.isoformat(),
                    "spec": spec.model_dump_json(),
                    "owner": owner,
                    "attempts": 0,
                },
            )
            pipe.zadd(self.keys.jobs_index(), {job_id: score})
            if owner:
                pipe.zadd(self.keys.jobs_index(owner), {job_id: score})
            pipe.hincrby(self.keys.stats, "jobs_queued", 1)
            pipe.xadd(
                self.keys.job_events(job_id),
                {"type": JobEventType.queued.value, "data": json.dumps({"status": "queued", "attempts": 0})},
                maxlen=EVENTS_MAX_LEN,
                approximate=True,
            )
            pipe.execute()
        return record

    def owner(self, job_id: str) -> str:
        """Who created the job ("" when the service runs open); one field, not the whole record."""
        owner = cast(str | None, self.redis.hget(self.keys.job(job_id), "owner"))
        if owner is None:
            raise JobNotFoundError(job_id)
        return owner

    def delete(self, job_id: str) -> None:
        """Forget a job that could not be enqueued."""
        owner = cast(str | None, self.redis.hget(self.keys.job(job_id), "owner")) or ""
        with self.redis.pipeline() as pipe:
            pipe.delete(self.keys.job(job_id), self.keys.job_results(job_id), self.keys.job_events(job_id))
            pipe.zrem(self.keys.jobs_index(), job_id)
            if owner:
                pipe.zrem(self.keys.jobs_index(owner), job_id)
            pipe.hincrby(self.keys.stats, "jobs_queued", -1)
            pipe.execute()

    def get(self, job_id: str) -> JobRecord:
        with self.redis.pipeline() as pipe:
            pipe.hgetall(self.keys.job(job_id))
            pipe.lrange(self.keys.job_results(job_id), 0, -1)
            fields, results = pipe.execute()
        return _record(job_id, fields, results)

    def spec(self, job_id: str) -> ComparisonSpec:
        """The job's spec: stored once, here (the queue carries only the id); one field, not the whole record."""
        raw = cast(str | None, self.redis.hget(self.keys.job(job_id), "spec"))
        if raw is None:
            raise JobNotFoundError(job_id)
        return ComparisonSpec.model_validate_json(raw)

    def recent(self, owner: str = "", offset: int = 0, limit: int = 20) -> tuple[list[JobRecord], int]:
        """Most recent first."""
        index = self.keys.jobs_index(owner)
        ids = cast(list[str], self.redis.zrevrange(index, offset, offset + limit - 1))
        total = self.redis.zcard(index)
        records = []
        for job_id in ids:
            try:
                records.append(self.get(job_id))
            except JobNotFoundError:  # expired between the two reads
                self.redis.zrem(index, job_id)
        return records, total

    def _set_status(self, job_id: str, expected: str, status: JobStatus, **fields: Any) -> bool:
        event_type = JobEventType.started if status is JobStatus.running else JobEventType(status.value)
        event = {"status": status.value, **{key: fields[key] for key in _EVENT_FIELDS if key in fields}}
        args: list[Any] = [expected, status.value, event_type.value, json.dumps(event), EVENTS_MAX_LEN]
        for key, value in fields.items():
            args += [key, value]
        keys = [self.keys.job(job_id), self.keys.stats, self.keys.job_events(job_id)]
        outcome = cast(int, self._transition(keys=keys, args=args))
        if outcome == -1:
            raise JobNotFoundError(job_id)
        if outcome == 1 and status.is_terminal:
            with self.redis.pipeline() as pipe:
                pipe.srem(self.keys.running_jobs, job_id)
                pipe.expire(self.keys.job(job_id), self.job_ttl_s)
                pipe.expire(self.keys.job_results(job_id), self.job_ttl_s)
                pipe.expire(self.keys.job_events(job_id), self.job_ttl_s)
                pipe.execute()
        return outcome == 1

    def start(self, job_id: str, worker: str) -> bool:
        """queued → running, claimed by `worker`; False when the job was canceled (or claimed) meanwhile."""
        attempts = int(cast(str, self.redis.hget(self.keys.job(job_id), "attempts") or 0)) + 1
        started = self._set_status(
            job_id,
            JobStatus.queued.value,
            JobStatus.running,
            started_at=utcnow().isoformat(),
            worker=worker,
            attempts=attempts,
            progress="[]",
        )
        if started:
            self.redis.sadd(self.keys.running_jobs, job_id)
        return started

    def requeue(self, job_id: str, reason: str) -> bool:
        """running → queued, for a retry after its worker died; the partial results are dropped."""
        requeued = self._set_status(job_id, JobStatus.running.value, JobStatus.queued, error=reason, worker="")
        if requeued:
            with self.redis.pipeline() as pipe:
                pipe.srem(self.keys.running_jobs, job_id)
                pipe.delete(self.keys.job_results(job_id))
                pipe.execute()
        return requeued

    def finish(self, job_id: str, status: JobStatus, error: str | None = None, **fields: str) -> bool:
        """running → a terminal status."""
        finished_at = utcnow()
        values: dict[str, Any] = {"finished_at": finished_at.isoformat(), **fields}
        if error is not None or status is JobStatus.succeeded:
            values["error"] = error or ""  # a retried job that succeeded carries no stale error
        started_at = cast(str | None, self.redis.hget(self.keys.job(job_id), "started_at"))
        finished = self._set_status(job_id, JobStatus.running.value, status, **values)
        if finished and started_at:
            duration = (finished_at - datetime.fromisoformat(started_at)).total_seconds()
            with self.redis.pipeline() as pipe:
                pipe.hincrbyfloat(self.keys.stats, f"duration_seconds_sum_{status.value}", duration)
                pipe.hincrby(self.keys.stats, f"duration_count_{status.value}", 1)
                pipe.execute()
        return finished

    def cancel(self, job_id: str) -> JobStatus:
        """Cancel a queued job at once, or ask a running one to stop at its next step. Returns the new status."""
        if self._set_status(job_id, JobStatus.queued.value, JobStatus.canceled, finished_at=utcnow().isoformat()):
            return JobStatus.canceled
        status = JobStatus(cast(str, self.redis.hget(self.keys.job(job_id), "status")))
        if status is JobStatus.running:
            self.redis.hset(self.keys.job(job_id), "cancel_requested", "1")
            return status
        raise JobStateError(f"job {job_id} is already {status.value}")

    def cancel_requested(self, job_id: str) -> bool:
        return self.redis.hget(self.keys.job(job_id), "cancel_requested") == "1"

    def status(self, job_id: str) -> JobStatus:
        value = cast(str | None, self.redis.hget(self.keys.job(job_id), "status"))
        if value is None:
            raise JobNotFoundError(job_id)
        return JobStatus(value)

    # -- progress and results --------------------------------------------------------------------------------
    def set_progress(self, job_id: str, progress: list[JobProgress]) -> None:
        payload = json.dumps([p.model_dump() for p in progress])
        self.redis.hset(self.keys.job(job_id), "progress", payload)

    def add_result(self, job_id: str, result: SchedulerResult) -> None:
        """Store one scheduler's result and announce it on the job's event stream, in one round trip."""
        with self.redis.pipeline() as pipe:
            pipe.rpush(self.keys.job_results(job_id), result.model_dump_json())
            self._add_event(pipe, job_id, JobEventType.scheduler_done, result.model_dump_json())
            pipe.execute()

    def add_step(self, job_id: str, step: StepRecord) -> str:
        """Append a completed scheduler step to the job's event stream; returns the event's id."""
        return cast(str, self._add_event(self.redis, job_id, JobEventType.step, step.model_dump_json()))

    def _add_event(self, redis: Any, job_id: str, event_type: JobEventType, data_json: str) -> Any:
        fields = {"type": event_type.value, "data": data_json}
        return redis.xadd(self.keys.job_events(job_id), fields, maxlen=EVENTS_MAX_LEN, approximate=True)

    def events(self, job_id: str, after: str = "0-0", count: int | None = None) -> list[JobEvent]:
        """The job's events after the id `after`, oldest first (without waiting)."""
        entries = self.redis.xrange(self.keys.job_events(job_id), min=f"({after}", count=count)
        return _parse_events(cast(list[tuple[str, dict[str, str]]], entries))

    def record_run_stats(self, results: list[SchedulerResult]) -> None:
        """UNet calls and the seconds they took, summed over every job (for /metrics' UNet evals/s)."""
        with self.redis.pipeline() as pipe:
            pipe.hincrby(self.keys.stats, "unet_calls_total", sum(r.timings.unet_calls for r in results))
            pipe.hincrbyfloat(self.keys.stats, "unet_seconds_total", sum(r.timings.wall_s for r in results))
            pipe.execute()

    def stats(self) -> dict[str, float]:
        return {key: float(value) for key, value in cast(dict[str, str], self.redis.hgetall(self.keys.stats)).items()}

    def running_jobs(self) -> list[str]:
        return sorted(cast(set[str], self.redis.smembers(self.keys.running_jobs)))


class JobReader:
    """Reads jobs without blocking the event loop: their event streams (the `events` route) and their records (the
    status route, the API's hot path).

    Everything comes from Redis (never from the process's memory), so any API replica serves any client, and a
    client that reconnects to another replica with `Last-Event-ID` continues where it stopped.
    """

    def __init__(self, redis: AsyncRedis, prefix: str) -> None:
        self.redis = redis
        self.keys = RedisKeys(prefix)

    async def owner(self, job_id: str) -> str:
        owner = cast(str | None, await self.redis.hget(self.keys.job(job_id), "owner"))
        if owner is None:
            raise JobNotFoundError(job_id)
        return owner

    async def visible_record(self, job_id: str, caller: str) -> JobRecord:
        """The job's record if `caller` owns it, as JobLifecycle.visible_record, in one read."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(self.keys.job(job_id))
            pipe.lrange(self.keys.job_results(job_id), 0, -1)
            fields, results = await pipe.execute()
        record = _record(job_id, fields, results)
        if record.owner != caller:
            raise JobNotFoundError(job_id)
        return record

    async def exists(self, job_id: str) -> bool:
        """Whether the job's record is still stored (finished jobs expire)."""
        return bool(await self.redis.exists(self.keys.job(job_id)))

    async def status(self, job_id: str) -> JobStatus | None:
        """The job's status, or None when it has expired (or never existed)."""
        value = cast(str | None, await self.redis.hget(self.keys.job(job_id), "status"))
        return JobStatus(value) if value is not None else None

    async def read(self, job_id: str, after: str, block_ms: int | None, count: int = 500) -> list[JobEvent]:
        """Events after the id `after`; waits up to `block_ms` for the first one when there is none yet."""
        key = self.keys.job_events(job_id)
        answer = await self.redis.xread({key: after}, count=count, block=block_ms)
        if not answer:
            return []
        [(_key, entries)] = cast(list[tuple[str, list[tuple[str, dict[str, str]]]]], answer)
        return _parse_events(entries)
