"""Retention: delete stored comparisons (frames, grids, manifests) older than the configured age."""

from __future__ import annotations

from datetime import datetime, timedelta

from service.contract import utcnow
from service.storage import Storage

ROOT = "comparisons/"


def expired_comparisons(storage: Storage, older_than: timedelta, now: datetime | None = None) -> list[str]:
    """Job ids whose newest stored file is older than `older_than`."""
    cutoff = (now or utcnow()) - older_than
    newest: dict[str, datetime] = {}
    for item in storage.objects(ROOT):
        job_id = item.key.removeprefix(ROOT).split("/", 1)[0]
        newest[job_id] = max(newest.get(job_id, item.modified), item.modified)
    return sorted(job_id for job_id, modified in newest.items() if modified < cutoff)


def delete_comparisons(storage: Storage, job_ids: list[str]) -> int:
    return sum(storage.delete_prefix(f"{ROOT}{job_id}/") for job_id in job_ids)
