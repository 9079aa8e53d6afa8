"""The job lifecycle as clients drive it, in one place: check a spec, submit it (idempotency, the queue cap and the
rollback of a refused submit), read and list what a caller may see, cancel.

The routes call these and render the answer; `schedlab submit` reaches them through the API. Workers drive the
rest of the lifecycle through `JobStore` (start, progress, results, finish), and `service.reaper` retries or
fails the jobs of workers that died.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from service.contract import Catalog, ComparisonSpec, JobStatus, Limits, check_spec, load_catalog
from service.errors import JobNotFoundError, JobStateError, QueueFullError, SpecError
from service.estimate import ComparisonEstimate, estimate
from service.idempotency import IdempotencyKeys
from service.job_store import JobRecord, JobStore
from service.queue import ComparisonQueue
from service.settings import Settings
from service.webhooks import check_webhook_url
from service.workers import WorkerRegistry

QUEUE_FULL_RETRY_AFTER_S = 10


@dataclass(frozen=True)
class CheckedSpec:
    """A spec that passed every rule: its model named (the default when unset), and the catalog it was checked
    against (None: the generic catalog, for the default model before its first worker registered)."""

    spec: ComparisonSpec
    catalog: Catalog | None


class JobLifecycle:
    def __init__(
        self,
        settings: Settings,
        store: JobStore,
        queue: ComparisonQueue,
        workers: WorkerRegistry,
        idempotency: IdempotencyKeys,
    ) -> None:
        self.settings = settings
        self.store = store
        self.queue = queue
        self.workers = workers
        self.idempotency = idempotency
        self.limits = Limits.from_settings(settings)

    # -- submit ------------------------------------------------------------------------------------------------
    def check(self, spec: ComparisonSpec) -> CheckedSpec:
        """Name the spec's model and check every rule against what that model's workers registered.

        The default model before any of its workers registered is the one exception: its jobs are checked against
        the generic catalog and queued, so a deployment accepts work while its first worker is still loading.
        """
        model = spec.model or self.settings.model
        catalog = self.workers.model_catalog(model)
        if catalog is None and model != self.settings.model:
            catalog = self.workers.served_catalog(model)
        spec = (catalog or load_catalog()).for_spec(spec.model_copy(update={"model": model}))
        check_spec(spec, self.limits, catalog)
        return CheckedSpec(spec, catalog)

    def estimate(self, checked: CheckedSpec) -> ComparisonEstimate:
        """What the job would cost, priced with the live workers' measured throughput; nothing is queued."""
        spec = checked.spec
        assert spec.model is not None  # check() names it
        return estimate(spec, self.workers.workers(), spec.model, checked.catalog)

    def submit(self, checked: CheckedSpec, owner: str, idempotency_key: str | None = None) -> JobRecord:
        """Record and queue the job; with `idempotency_key`, a retry of an accepted request returns that job.

        A refused submit (queue full, Redis failing) leaves nothing behind: no record, no queue entry, the
        idempotency key free again.
        """
        spec = checked.spec
        if spec.webhook is not None:
            if self.settings.webhook_secret is None:
                raise SpecError("webhook", "webhooks are disabled on this deployment (no SCHEDLAB_WEBHOOK_SECRET)")
            check_webhook_url(spec.webhook.url, self.settings.webhook_allowed_hosts)
        job_id = str(uuid.uuid4())
        if idempotency_key is not None:
            bound = self.idempotency.claim(owner, idempotency_key, spec, job_id)
            if bound is not None:  # a retry of a request already accepted: the same job, whatever the queue holds
                try:
                    return self.visible_record(bound, owner)
                except JobNotFoundError as error:
                    raise JobStateError("a request with this Idempotency-Key is still being accepted") from error
        created = False
        try:
            self._check_queue_room(self.queue.depth())
            record = self.store.create(job_id, spec, owner=owner)
            created = True
            self.queue.enqueue(job_id, spec.model)
            # The check above races with concurrent submits; this one cannot: each job sees its own place.
            position = self.queue.position(job_id, spec.model)
            if position is not None and position >= self.settings.max_queue_depth:
                self.queue.remove(job_id, spec.model)
                self._check_queue_room(position)
        except Exception:
            if created:
                self.store.delete(job_id)  # never show a job that no worker will ever see
            if idempotency_key is not None:
                self.idempotency.release(owner, idempotency_key)
            raise
        return record

    def _check_queue_room(self, depth: int) -> None:
        if depth >= self.settings.max_queue_depth:
            raise QueueFullError(depth, retry_after_s=QUEUE_FULL_RETRY_AFTER_S)

    # -- read, list, cancel ------------------------------------------------------------------------------------
    def visible_record(self, job_id: str, caller: str) -> JobRecord:
        """The job's record, if `caller` owns it; another key's job does not exist, as far as the caller can tell."""
        record = self.store.get(job_id)  # one read for the record and its owner
        if record.owner != caller:
            raise JobNotFoundError(job_id)
        return record

    def require_visible(self, job_id: str, caller: str) -> None:
        """As `visible_record`, reading the owner alone (for routes that need nothing else of the record)."""
        if self.store.owner(job_id) != caller:
            raise JobNotFoundError(job_id)

    def recent(self, caller: str, offset: int, limit: int) -> tuple[list[JobRecord], int]:
        """The caller's jobs, newest first, and how many there are in all."""
        return self.store.recent(caller, offset, limit)

    def queue_position(self, record: JobRecord) -> int | None:
        """0 = next; None unless the job is queued."""
        return self.queue.position(record.id, record.spec.model) if record.status is JobStatus.queued else None

    def cancel(self, job_id: str, caller: str) -> JobRecord:
        """A queued job never runs (and leaves its queue); a running one stops at its next step."""
        self.require_visible(job_id, caller)
        canceled = self.store.cancel(job_id) is JobStatus.canceled
        record = self.store.get(job_id)
        if canceled:
            self.queue.remove(job_id, record.spec.model)
        return record
