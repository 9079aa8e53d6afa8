"""Retention: delete stored comparisons (frames, grids, manifests) older than the configured age."""

from __future__ import annotations

from datetime import datetime, timedelta

from service.contract import StorageLayout, utcnow
from service.storage import Storage


def expired_comparisons(storage: Storage, older_than: timedelta, now: datetime | None = None) -> list[str]:
    """Job ids whose newest stored file is older than `older_than`."""
    cutoff = (now or utcnow()) - older_than
    newest: dict[str, datetime] = {}
    for item in storage.objects(StorageLayout.JOBS_ROOT):
        job_id = StorageLayout.job_id_of(item.key)
        newest[job_id] = max(newest.get(job_id, item.modified), item.modified)
    return sorted(job_id for job_id, modified in newest.items() if modified < cutoff)


def delete_comparisons(storage: Storage, job_ids: list[str]) -> int:
    return sum(storage.delete_prefix(StorageLayout.for_job(job_id).root) for job_id in job_ids)
