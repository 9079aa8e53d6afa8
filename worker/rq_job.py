"""The rq job: run one comparison on this process's loaded model and keep its lifecycle record up to date."""

from __future__ import annotations

import json
import logging
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from service.contract import (
    ComparisonSpec,
    CostModel,
    JobStatus,
    JobWork,
    SchedulerResult,
    StepRecord,
    StorageLayout,
    WebhookEvent,
    fit_cost_model,
    job_work,
    progress_plan,
)
from service.errors import JobNotFoundError, SchedlabError, SpecError, StorageError
from service.job_store import JobStore
from service.logs import current_job_id
from service.storage import Storage
from service.webhooks import WebhookSender
from worker.engine import ComparisonEngine, ComparisonOutcome
from worker.lockstep import default_max_batch
from worker.scheduler_run import RunListener

logger = logging.getLogger(__name__)


# Runs the cost model is fitted to: the warm-up's, then the latest jobs' (a deployment's jobs change shape).
MEASURED_RUNS_KEPT = 64


@dataclass
class WorkerRuntime:
    """What a worker process holds for every job: set once, before the first job, by `worker.serve`."""

    name: str
    engine: ComparisonEngine
    store: JobStore
    storage: Storage
    webhooks: WebhookSender | None = None
    jobs_done: int = 0
    current_job: str | None = None
    # Called after every job: the heartbeat publishes the new cost model at once, so the next dry run prices with it.
    after_job: Callable[[], None] | None = None
    measured_evals: int = 0  # image x UNet evaluations run, over warm-up and jobs
    measured_seconds: float = 0.0  # the wall time of those whole runs
    # The latest finished runs' work and wall time, which the cost model is fitted to.
    measured_runs: deque[tuple[JobWork, float]] = field(default_factory=lambda: deque(maxlen=MEASURED_RUNS_KEPT))
    cost_model: CostModel | None = None

    @property
    def max_batch(self) -> int:
        """The most samples this worker's lock-step runs put in a UNet call, at the model's default size."""
        model = self.engine.model
        return self.engine.max_batch or default_max_batch(model.device, model.default_size**2)

    def record_run(self, spec: ComparisonSpec, outcome: ComparisonOutcome) -> None:
        """A run's throughput and, when it ran to the end (its work is the spec's), a point for the cost model."""
        if outcome.unet_evaluations > 0 and outcome.wall_s > 0:
            self.measured_evals += outcome.unet_evaluations
            self.measured_seconds += outcome.wall_s
        if outcome.status == "succeeded" and outcome.wall_s > 0:
            self.measured_runs.append((job_work(spec, self.engine.catalog, self.max_batch), outcome.wall_s))
            self.cost_model = fit_cost_model(self.measured_runs, self.max_batch)

    @property
    def evals_per_s(self) -> float | None:
        return self.measured_evals / self.measured_seconds if self.measured_seconds else None

    def notify(self, spec: ComparisonSpec, event: WebhookEvent, job_id: str, data: dict[str, Any]) -> None:
        if self.webhooks is not None:
            self.webhooks.send(spec.webhook, event, job_id, data)


_runtime: WorkerRuntime | None = None


def install_runtime(runtime: WorkerRuntime) -> None:
    # rq calls job functions by import path, so the loaded model reaches them through this module.
    global _runtime
    _runtime = runtime


def current_runtime() -> WorkerRuntime:
    if _runtime is None:
        raise RuntimeError("no model loaded in this process: jobs run only inside `schedlab worker`")
    return _runtime


# Redis round trips per UNet call cost a tiny model more than its step; on a GPU a step takes longer than this.
REDIS_UPDATE_INTERVAL_S = 0.1


class _CancelFlag:
    """The runner asks every step; Redis is asked at most every REDIS_UPDATE_INTERVAL_S."""

    def __init__(self, store: JobStore, job_id: str) -> None:
        self.store, self.job_id = store, job_id
        self.checked_at = 0.0
        self.requested = False

    def __call__(self) -> bool:
        now = time.monotonic()
        if not self.requested and now - self.checked_at >= REDIS_UPDATE_INTERVAL_S:
            self.checked_at = now
            self.requested = self.store.cancel_requested(self.job_id)
        return self.requested


class _JobListener(RunListener):
    def __init__(self, runtime: WorkerRuntime, job_id: str, spec: ComparisonSpec) -> None:
        self.runtime = runtime
        self.store = runtime.store
        self.job_id = job_id
        self.spec = spec
        self.progress = progress_plan(spec)
        self.store.set_progress(job_id, self.progress)
        self.written_at = time.monotonic()

    def on_progress(
        self,
        scheduler_index: int,
        scheduler: str,
        steps_done: int,
        steps_total: int,
        *,
        timestep: float | None = None,
        sigma: float | None = None,
        frames: Sequence[str] = (),
    ) -> None:
        # Every step is an event (one XADD: watchers see each step as it happens); the polled progress record
        # is rewritten at most every REDIS_UPDATE_INTERVAL_S.
        step = StepRecord(
            scheduler_index=scheduler_index,
            scheduler=scheduler,
            step=steps_done,
            of=steps_total,
            timestep=timestep,
            sigma=sigma,
            frames=list(frames),
            at=time.time(),
        )
        self.store.add_step(self.job_id, step)
        self.progress[scheduler_index].steps_done = steps_done
        now = time.monotonic()
        if steps_done == steps_total or now - self.written_at >= REDIS_UPDATE_INTERVAL_S:
            self.written_at = now
            self.store.set_progress(self.job_id, self.progress)

    def on_scheduler_done(self, result: SchedulerResult) -> None:
        self.store.add_result(self.job_id, result)
        summary = {"index": result.index, "scheduler": result.name, "id": result.id, "status": result.status}
        self.runtime.notify(self.spec, WebhookEvent.scheduler_done, self.job_id, summary)


def run_comparison(job_id: str, *previous_layout_args: object) -> str:
    """Run a queued comparison, reading its spec from the job record. Returns its final status; failures are
    recorded, never left 'running'.

    The rq payload is the job id alone. Jobs queued by the previous layout carried the spec as a second argument
    (`previous_layout_args`); the record holds the same spec, so they run unchanged, from the record.
    """
    runtime = current_runtime()
    store = runtime.store
    try:
        started = store.start(job_id, runtime.name)
    except JobNotFoundError:  # withdrawn at submission (queue full) or expired
        logger.info("job %s: no record; skipping", job_id)
        return "skipped"
    if not started:
        logger.info("job %s: not queued any more (%s); skipping", job_id, store.status(job_id).value)
        return "skipped"
    runtime.current_job = job_id
    token = current_job_id.set(job_id)
    logger.info("job %s: running on %s", job_id, runtime.name)
    spec: ComparisonSpec | None = None
    try:
        spec = runtime.engine.catalog.for_spec(store.spec(job_id))
        runtime.notify(spec, WebhookEvent.started, job_id, {"status": "running", "worker": runtime.name})
        outcome = runtime.engine.run(
            spec,
            runtime.storage,
            StorageLayout.for_job(job_id),
            should_stop=_CancelFlag(store, job_id),
            listener=_JobListener(runtime, job_id, spec),
        )
        status = outcome.status
        store.finish(
            job_id,
            status,
            contact_sheet=outcome.manifest.contact_sheet or "",
            manifest=outcome.keys.manifest,
            sweep=outcome.sweep.model_dump_json() if outcome.sweep is not None else "",
            charts=json.dumps(outcome.manifest.charts),
        )
        store.record_run_stats(outcome.results)
        runtime.record_run(spec, outcome)
        logger.info("job %s: %s", job_id, status.value)
        runtime.notify(spec, WebhookEvent.completed, job_id, {"status": status.value})
        return status.value
    except BaseException as error:  # the job timeout arrives as an exception too; nothing may leave it running
        message = describe_failure(error)
        store.finish(job_id, JobStatus.failed, error=message)
        logger.error("job %s failed: %s", job_id, message)
        logger.debug("%s", traceback.format_exc())
        if spec is not None:
            runtime.notify(spec, WebhookEvent.completed, job_id, {"status": "failed", "error": message})
        if not isinstance(error, Exception):
            raise  # SystemExit / KeyboardInterrupt: record the failure, then let the worker stop
        return JobStatus.failed.value
    finally:
        current_job_id.reset(token)
        runtime.current_job = None
        runtime.jobs_done += 1
        if runtime.after_job is not None:
            try:
                runtime.after_job()
            except Exception:  # a Redis hiccup here must not fail a finished job; the next heartbeat retries
                logger.exception("job %s: publishing the worker's state failed", job_id)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()  # give back what a failed (e.g. out-of-memory) job left allocated


def describe_failure(error: BaseException) -> str:
    """A message for users: what failed and why, without a traceback."""
    if isinstance(error, torch.cuda.OutOfMemoryError):
        return (
            "the GPU ran out of memory; try fewer images, a smaller resolution or fewer schedulers per job "
            f"({error.__class__.__name__}: {str(error).splitlines()[0] if str(error) else ''})"
        )
    if isinstance(error, SpecError):
        return f"invalid spec: {error}"
    if isinstance(error, StorageError):
        return f"object storage failed: {error}"
    if isinstance(error, SchedlabError):
        return str(error)
    if error.__class__.__name__ == "JobTimeoutException":
        return f"the job ran past its time limit: {error}"
    return f"{error.__class__.__name__}: {error}"
