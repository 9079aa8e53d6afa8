"""The job store and the reaper against the real Redis: lifecycle transitions, expiry, dead workers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from redis import Redis

from service.contract import ComparisonSpec, JobStatus, ModelInfo, load_catalog
from service.errors import JobStateError
from service.job_store import JobStore
from service.queue import ComparisonQueue
from service.reaper import Reaper
from service.redis_keys import RedisKeys
from service.workers import WorkerInfo, WorkerRegistry

SPEC = ComparisonSpec(prompt="a red circle", schedulers=[{"name": "euler"}])


@pytest.fixture
def store(redis_url: str, key_prefix: str) -> Iterator[JobStore]:
    yield JobStore(Redis.from_url(redis_url, decode_responses=True), key_prefix, job_ttl_s=120)


@pytest.fixture
def queue(redis_url: str, key_prefix: str) -> ComparisonQueue:
    return ComparisonQueue(Redis.from_url(redis_url), key_prefix, job_timeout_s=60)


@pytest.fixture
def workers(store: JobStore, key_prefix: str) -> WorkerRegistry:
    return WorkerRegistry(store.redis, key_prefix)


def test_lifecycle_transitions_are_compare_and_set(store: JobStore) -> None:
    store.create("j1", SPEC)
    assert store.start("j1", "w1") and not store.start("j1", "w2")  # claimed once
    assert store.finish("j1", JobStatus.succeeded)
    assert not store.finish("j1", JobStatus.failed, error="late")  # a finished job stays finished
    record = store.get("j1")
    assert record.status is JobStatus.succeeded and record.error is None and record.worker == "w1"
    with pytest.raises(JobStateError):
        store.cancel("j1")


def test_cancel_queued_is_immediate_and_running_is_a_request(store: JobStore) -> None:
    store.create("queued", SPEC)
    assert store.cancel("queued") is JobStatus.canceled and not store.start("queued", "w1")
    store.create("running", SPEC)
    store.start("running", "w1")
    assert store.cancel("running") is JobStatus.running and store.cancel_requested("running")


def test_finished_jobs_expire_from_redis(store: JobStore) -> None:
    store.create("j1", SPEC)
    store.start("j1", "w1")
    assert store.redis.ttl(store.keys.job("j1")) == -1  # live jobs never expire
    store.finish("j1", JobStatus.succeeded)
    assert 0 < store.redis.ttl(store.keys.job("j1")) <= 120


def test_dead_workers_job_is_retried_once_then_failed(
    store: JobStore, workers: WorkerRegistry, queue: ComparisonQueue
) -> None:
    # The promise in numbers (README: "retried once elsewhere, then failed"), not the constant that implements it.
    store.create("j1", SPEC)
    reaper = Reaper(store, workers, queue, dead_after_s=3)
    assert store.start("j1", "dead-1")  # no heartbeat was ever written for this worker
    assert reaper.reap() == ["j1"]
    assert store.status("j1") is JobStatus.queued and queue.depth() == 1  # back in the queue for another worker
    assert store.start("j1", "dead-2")
    assert reaper.reap() == ["j1"]
    record = store.get("j1")
    assert record.status is JobStatus.failed and record.attempts == 2
    assert "stopped responding" in (record.error or "")
    assert store.running_jobs() == []


def test_a_retried_job_starts_afresh_without_the_dead_attempts_results_or_progress(
    store: JobStore, workers: WorkerRegistry, queue: ComparisonQueue
) -> None:
    from service.contract import JobProgress
    from tests.service.test_events import result

    store.create("j1", SPEC)
    assert store.start("j1", "dead-1")
    store.add_result("j1", result("j1"))
    store.set_progress("j1", [JobProgress(scheduler_index=0, scheduler="euler", steps_done=2, steps_total=2)])
    assert Reaper(store, workers, queue, dead_after_s=3).reap() == ["j1"]
    assert store.get("j1").results == []  # the next attempt writes its own; none is counted twice
    assert store.start("j1", "w2")
    record = store.get("j1")
    assert record.results == [] and record.progress == [] and record.worker == "w2"


def test_a_live_workers_job_is_left_alone(store: JobStore, workers: WorkerRegistry, queue: ComparisonQueue) -> None:
    from service.contract import utcnow

    info = WorkerInfo(name="alive", model={}, schedulers=[], pid=1, host="h", started_at=utcnow())
    workers.heartbeat(info, ttl_s=30)
    store.create("j1", SPEC)
    store.start("j1", "alive")
    assert Reaper(store, workers, queue, dead_after_s=30).reap() == []
    assert store.status("j1") is JobStatus.running


def test_clean_up_deletes_every_key_of_the_prefix_and_rq_keys_of_its_jobs_only(
    store: JobStore, queue: ComparisonQueue
) -> None:
    other = RedisKeys("schedlab-test-someone-else")
    store.redis.set(other.job("j1"), "kept")
    try:
        store.create("j1", SPEC)
        queue.enqueue("j1", SPEC.model)
        assert store.redis.exists("rq:job:j1") and store.redis.keys(f"*{store.keys.prefix}*")
        assert store.keys.delete_everything(store.redis) >= 3
        assert store.redis.keys(f"*{store.keys.prefix}*") == [] and not store.redis.exists("rq:job:j1")
        assert store.redis.get(other.job("j1")) == "kept"
    finally:
        store.redis.delete(other.job("j1"))


def test_a_finished_record_of_the_previous_layout_still_reads(store: JobStore) -> None:
    """Results stored before `SchedulerResult.key` became `folder` (a deployment upgraded with finished jobs)."""
    from tests.service.test_events import result

    store.create("j1", SPEC)
    store.start("j1", "w1")
    stored = result("j1").model_dump(mode="json")
    stored["key"] = stored.pop("folder")
    store.redis.rpush(store.keys.job_results("j1"), json.dumps(stored))
    store.finish("j1", JobStatus.succeeded)
    assert store.get("j1").results[0].folder == "comparisons/j1/01-euler"


def test_the_queue_depth_counts_every_models_queue(store: JobStore, queue: ComparisonQueue) -> None:
    # The queue cap guards the deployment, not one model: jobs for another model's workers count too.
    for job_id in ("j1", "j2", "j3"):
        store.create(job_id, SPEC)  # records, so the clean-up finds rq's keys of these jobs
    queue.enqueue("j1", None)  # the default model's queue
    queue.enqueue("j2", "sdxl")
    queue.enqueue("j3", "sdxl")
    assert queue.depth() == 3 and queue.position("j3", "sdxl") == 1
    queue.remove("j2", "sdxl")
    assert queue.depth() == 2 and queue.position("j3", "sdxl") == 0


def test_a_worker_that_stops_beating_is_dead_once_its_heartbeat_expires(workers: WorkerRegistry) -> None:
    # What the reaper's "dead" rests on: the heartbeat is written with the dead-after time as its time to live.
    from service.contract import utcnow

    info = WorkerInfo(name="w", model={}, schedulers=[], pid=1, host="h", started_at=utcnow())
    workers.heartbeat(info, ttl_s=1.0)
    assert workers.alive("w") and [w.name for w in workers.workers()] == ["w"]
    time.sleep(1.2)
    assert not workers.alive("w") and workers.workers() == []


def test_a_served_models_catalog_lives_as_long_as_its_workers_refresh_it(workers: WorkerRegistry) -> None:
    model = ModelInfo(
        name="m", id="t/m", family="sd", pipeline="p", prediction_type="epsilon", default_size=64, size_multiple=8
    )
    catalog = load_catalog().model_copy(update={"model": model})
    workers.register_model(catalog, ttl_s=0.8)
    for _ in range(4):  # 1.2 s in all, past the first time to live: each refresh pushes it back
        time.sleep(0.3)
        workers.refresh_model("m", ttl_s=0.8)
    assert workers.registered_models() == ["m"]
    time.sleep(1.0)
    assert workers.registered_models() == [] and workers.model_catalog("m") is None
