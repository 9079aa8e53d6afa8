"""The rq job as a worker runs it (rq's SimpleWorker, in this process, on the tiny model): its spec comes from the
job record; jobs queued by the previous layout, whose payload also carried the spec, still run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from redis import Redis
from rq import SimpleWorker
from rq.serializers import JSONSerializer

import worker.rq_job
from service.contract import ComparisonSpec, Execution, JobStatus, job_work, utcnow
from service.job_store import JobStore
from service.queue import ComparisonQueue
from service.settings import Settings
from service.storage import LocalStorage
from service.workers import WorkerInfo, WorkerRegistry
from worker.engine import ComparisonEngine
from worker.heartbeat import Heartbeat
from worker.model import load_model
from worker.rq_job import WorkerRuntime
from worker.serve import warm_up

SPEC = ComparisonSpec(prompt="a red circle", schedulers=[{"name": "euler"}], steps=2, num_images=1)


@pytest.fixture
def store(redis_url: str, key_prefix: str) -> JobStore:
    return JobStore(Redis.from_url(redis_url, decode_responses=True), key_prefix)


@pytest.fixture
def queue(redis_url: str, key_prefix: str) -> ComparisonQueue:
    return ComparisonQueue(Redis.from_url(redis_url), key_prefix, job_timeout_s=60)


@pytest.fixture(autouse=True)
def runtime(
    engine: ComparisonEngine, store: JobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> WorkerRuntime:
    runtime = WorkerRuntime("w1", engine, store, LocalStorage(tmp_path))
    monkeypatch.setattr(worker.rq_job, "_runtime", runtime)
    return runtime


def _work(queue: ComparisonQueue, key_prefix: str) -> None:
    rq_worker = SimpleWorker(
        [queue.queue], connection=queue.connection, name=f"{key_prefix}-w1", serializer=JSONSerializer
    )
    rq_worker.work(burst=True, with_scheduler=False)


def test_a_job_runs_from_its_record(store: JobStore, queue: ComparisonQueue, key_prefix: str) -> None:
    store.create("j1", SPEC)
    queue.enqueue("j1", SPEC.model)
    _work(queue, key_prefix)
    record = store.get("j1")
    assert record.status is JobStatus.succeeded, record.error
    assert [result.id for result in record.results] == ["euler"]


def test_the_polled_progress_ends_at_every_schedulers_last_step(
    store: JobStore, queue: ComparisonQueue, key_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Progress records are rate-limited; the last step is always written, however soon after the one before.
    monkeypatch.setattr(worker.rq_job, "REDIS_UPDATE_INTERVAL_S", 3600.0)
    spec = SPEC.model_copy(update={"schedulers": SPEC.schedulers * 2, "steps": 3})
    store.create("j1", spec)
    queue.enqueue("j1", spec.model)
    _work(queue, key_prefix)
    progress = store.get("j1").progress
    assert [(p.steps_done, p.steps_total) for p in progress] == [(3, 3), (3, 3)]


def test_a_job_canceled_after_it_left_the_queue_never_runs(
    store: JobStore, queue: ComparisonQueue, key_prefix: str
) -> None:
    # The race the API's cancel cannot close: canceled after a worker took it off the queue, before it started.
    store.create("j1", SPEC)
    queue.enqueue("j1", SPEC.model)
    assert store.cancel("j1") is JobStatus.canceled  # the record only; the queue still holds the job
    _work(queue, key_prefix)
    record = store.get("j1")
    assert record.status is JobStatus.canceled and record.started_at is None and record.results == []


def test_a_job_queued_by_the_previous_layout_with_its_spec_in_the_payload_still_runs(
    store: JobStore, queue: ComparisonQueue, key_prefix: str
) -> None:
    store.create("old", SPEC)
    # As the previous version queued it: its module path, and the spec in the payload.
    queue.queue.enqueue("worker.jobs.run_comparison", "old", SPEC.model_dump(mode="json"), job_id="old")
    _work(queue, key_prefix)
    record = store.get("old")
    assert record.status is JobStatus.succeeded, record.error
    assert record.spec == SPEC


def test_the_warm_up_and_each_finished_job_fit_the_cost_model_the_heartbeat_publishes(
    runtime: WorkerRuntime, store: JobStore, queue: ComparisonQueue, key_prefix: str, redis_url: str
) -> None:
    """Three warm-up runs (one image; sixteen images per call; a frame per step) fit the three coefficients; a job
    refines the fit; the heartbeat carries the model the API prices dry runs with."""
    for spec, outcome in warm_up(runtime.engine):
        runtime.record_run(spec, outcome)
    fitted = runtime.cost_model
    assert fitted is not None and fitted.runs_fitted == 3 and fitted.max_batch == runtime.max_batch == 64
    for work, seconds in runtime.measured_runs:  # three runs, three unknowns: within what keeping them >= 0 allows
        assert fitted.seconds(work) == pytest.approx(seconds, rel=0.5)
    store.create("j1", SPEC)
    queue.enqueue("j1", SPEC.model)
    _work(queue, key_prefix)
    assert runtime.cost_model is not None and runtime.cost_model.runs_fitted == 4
    registry = WorkerRegistry(Redis.from_url(redis_url, decode_responses=True), key_prefix)
    info = WorkerInfo(name="w1", model={}, schedulers=[], serves="tiny", pid=1, host="h", started_at=utcnow())
    Heartbeat(registry, runtime, info, ttl_s=30).beat()
    assert [worker.cost_model for worker in registry.workers()] == [runtime.cost_model]


def test_a_flow_models_sweep_runs_against_its_default_reference_stated_in_the_manifest(
    store: JobStore,
    queue: ComparisonQueue,
    key_prefix: str,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The job record holds the spec as sent (no reference); the worker runs its model's default reference, DPM++ 2M
    on flow sigmas for SD 3, and the manifest says so. The job runs sequentially, as `job_work` priced it."""
    cache = tmp_path_factory.mktemp("sd3-cache")
    model = load_model(Settings(model="tiny-sd3", model_cache_dir=cache, device="cpu", torch_threads=1))
    engine = ComparisonEngine(model)
    storage = LocalStorage(tmp_path / "files")
    monkeypatch.setattr(worker.rq_job, "_runtime", WorkerRuntime("w1", engine, store, storage))
    spec = ComparisonSpec(
        prompt="a red circle", schedulers=[{"name": "flow_euler"}], steps=[1, 2], num_images=1, model="tiny-sd3"
    )
    assert spec.reference is None and spec.resolved_reference().scheduler == "dpmpp_2m"  # unbound: the SD default
    sd3_queue = ComparisonQueue(queue.connection, key_prefix, job_timeout_s=60, default_model="tiny-sd3")
    store.create("flow", spec)
    sd3_queue.enqueue("flow", spec.model)
    _work(sd3_queue, key_prefix)
    record = store.get("flow")
    assert record.status is JobStatus.succeeded, record.error
    manifest = json.loads((tmp_path / "files" / record.manifest).read_text())
    assert manifest["reference"]["scheduler"] == "flow_dpmpp_2m" and manifest["reference"]["default"] is True
    assert manifest["spec"]["reference"] is None
    work = job_work(engine.catalog.for_spec(spec), engine.catalog)
    assert work.execution is Execution.sequential and manifest["execution"]["mode"] == "sequential"
