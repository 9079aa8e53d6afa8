"""Responses rendered once and served many times: finished jobs' status bodies and event-stream entries.

Both are safe to keep because what they render never changes: a finished job's record, a stream entry.
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
    """Events as sent on the wire, rendered once per event and base URL, not once per client watching it.

    A stream's entries never change, so an event's rendering stays valid; the oldest are dropped past `capacity`.
    """

    def __init__(self, capacity: int = 8192) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple[str, str, str], bytes] = OrderedDict()

    def get(self, key: tuple[str, str, str], render: Callable[[], bytes]) -> bytes:
        # Called from the event loop only (the events route is async): no lock needed.
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = render()
            if len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        return entry
