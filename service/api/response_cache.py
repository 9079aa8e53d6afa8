"""Responses rendered once and served many times: finished jobs' status bodies and event-stream batches.

Both are safe to keep because what they render never changes: a finished job's record, a run of stream entries.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple


class RenderedJob(NamedTuple):
    owner: str
    body: bytes


class FinishedJobs:
    """Rendered responses of finished jobs, which never change: the hot path of clients polling results."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple[str, str], RenderedJob] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, job_id: str, base_url: str) -> RenderedJob | None:
        with self._lock:
            entry = self._entries.get((job_id, base_url))
            if entry is not None:
                self._entries.move_to_end((job_id, base_url))
            return entry

    def put(self, job_id: str, base_url: str, owner: str, body: bytes) -> None:
        with self._lock:
            self._entries[(job_id, base_url)] = RenderedJob(owner, body)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)


class RenderedEvents:
    """Batches of events as sent on the wire, rendered once per batch and base URL, not once per client.

    Clients that have caught up all get the same batch when the job moves on, so hundreds of streams share one
    rendering. A batch is named by its job and its first and last event ids (events between them never change);
    the oldest renderings are dropped past `capacity`.
    """

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple[str, str, str, str], bytes] = OrderedDict()

    def get(self, key: tuple[str, str, str, str], render: Callable[[], bytes]) -> bytes:
        # Called from the event loop only (the events route is async): no lock needed.
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = render()
            if len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        return entry
