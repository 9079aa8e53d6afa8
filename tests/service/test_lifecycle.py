"""The job lifecycle without HTTP, against the real Redis: what a submit leaves behind when it is refused."""

from __future__ import annotations

import pytest
from redis import Redis

from service.contract import ComparisonSpec, JobStatus
from service.errors import QueueFullError
from service.idempotency import IdempotencyKeys
from service.job_store import JobStore
from service.lifecycle import JobLifecycle
from service.queue import ComparisonQueue
from service.settings import Settings
from service.workers import WorkerRegistry

SPEC = ComparisonSpec(prompt="a red circle", schedulers=[{"name": "euler"}], steps=4)


@pytest.fixture
def jobs(redis_url: str, key_prefix: str) -> JobLifecycle:
    settings = Settings(redis_url=redis_url, key_prefix=key_prefix, max_queue_depth=1)
    redis = Redis.from_url(redis_url, decode_responses=True)
    return JobLifecycle(
        settings,
        JobStore(redis, key_prefix),
        ComparisonQueue(Redis.from_url(redis_url), key_prefix, job_timeout_s=60, default_model=settings.model),
        WorkerRegistry(redis, key_prefix),
        IdempotencyKeys(redis, key_prefix),
    )


def rq_jobs(jobs: JobLifecycle) -> set[str]:
    """The ids of the rq jobs (`rq:job:<id>` hashes) that belong to this lifecycle's queues."""
    redis = jobs.queue.connection
    ours = jobs.queue.keys.queue_name_prefix.encode()
    return {
        key.decode().removeprefix("rq:job:")
        for key in redis.scan_iter(match="rq:job:*")
        if (redis.hget(key, "origin") or b"").startswith(ours)
    }


def test_a_submit_that_loses_the_race_for_the_last_place_leaves_nothing_behind(
    jobs: JobLifecycle, monkeypatch: pytest.MonkeyPatch
) -> None:
    accepted = jobs.submit(jobs.check(SPEC), owner="")
    # Another submit saw room (as if the first were still being accepted), then found itself past the cap.
    monkeypatch.setattr(jobs.queue, "depth", lambda: 0)
    with pytest.raises(QueueFullError):
        jobs.submit(jobs.check(SPEC), owner="", idempotency_key="retry-me")
    assert jobs.queue.queue.job_ids == [accepted.id]
    records, total = jobs.recent("", 0, 10)
    assert total == 1 and [record.id for record in records] == [accepted.id]
    assert jobs.store.stats()["jobs_queued"] == 1
    assert rq_jobs(jobs) == {accepted.id}  # not even rq's record of the refused job
    monkeypatch.undo()
    jobs.cancel(accepted.id, caller="")
    assert rq_jobs(jobs) == set()  # a job canceled while queued leaves no rq record behind to grow Redis
    retried = jobs.submit(jobs.check(SPEC), owner="", idempotency_key="retry-me")  # the key was freed: a new job
    assert retried.id != accepted.id and retried.status is JobStatus.queued
