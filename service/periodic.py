"""A daemon thread that calls one function every interval: the API's reaper, each worker's heartbeat."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class Periodic(threading.Thread):
    """Calls `tick` every `interval_s` until stopped; a failing call is logged and the loop goes on (a Redis
    hiccup must not stop it for good)."""

    def __init__(self, name: str, interval_s: float, tick: Callable[[], object]) -> None:
        super().__init__(name=name, daemon=True)
        self.interval_s = interval_s
        self.tick = tick
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval_s):
            try:
                self.tick()
            except Exception:
                logger.exception("%s failed", self.name)

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)
