"""Shared by the service benchmarks: the harness of the end-to-end tests (`tests/harness.py`: `schedlab api` and
`schedlab worker` as subprocesses on a private Redis key prefix, and removal of every Redis key the run left
behind) in a temporary folder, a hard time limit for the whole script, and CPU accounting from /proc.

The benchmarks use Redis database 12 (tests use 13) and a prefix of their own, `schedlab-bench-<random>`;
`SCHEDLAB_BENCH_REDIS_URL` points them elsewhere. Nothing here is imported by the service or the tests.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from redis import Redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for `tests.harness`

from tests import harness

REDIS_URL = os.environ.get("SCHEDLAB_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class BenchTimeout(Exception):
    """The script ran past its hard time limit."""


@contextmanager
def hard_limit(seconds: float) -> Iterator[None]:
    """Raise BenchTimeout in the main thread after `seconds`, so a hung run still cleans up and stops."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise BenchTimeout(f"the benchmark ran past its hard limit of {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _process_tree(pid: int) -> list[int]:
    """The process and all its descendants (uvicorn's worker processes, for instance), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants (threads that ended included)."""
    total = 0.0
    for current in _process_tree(pid):
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


def runqueue_wait_s(pid: int) -> float:
    """Seconds the live threads of a process and its descendants spent runnable but waiting for a CPU
    (/proc/.../schedstat): how much other work on the machine held them back."""
    total = 0
    for current in _process_tree(pid):
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                total += int(Path(f"/proc/{current}/task/{task}/schedstat").read_text().split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return total / 1e9


class Stack(harness.Stack):
    """The shared stack in a temporary folder (storage, logs, the processes' cwd), warm-up on; leaving it as a
    context manager also deletes the folder."""

    def __init__(self, extra_env: dict[str, str] | None = None, model_cache_dir: Path | None = None) -> None:
        prefix = f"schedlab-bench-{uuid.uuid4().hex[:8]}"
        self._tmp = tempfile.TemporaryDirectory(prefix=f"{prefix}-")
        workdir = Path(self._tmp.name)
        self.storage_dir = workdir / "storage"
        self.storage_dir.mkdir()
        settings = {"SCHEDLAB_WARMUP": "true", **(extra_env or {})}
        if model_cache_dir is not None:
            settings["SCHEDLAB_MODEL_CACHE_DIR"] = str(model_cache_dir)
        super().__init__(harness.stack_env(REDIS_URL, prefix, self.storage_dir.as_uri(), **settings), workdir)

    def rq_queue_ids(self) -> list[str]:
        """The job ids in the model's rq queue, in order, read from Redis directly (not through the API)."""
        from rq import Queue

        name = self.keys.queue_name(self.env["SCHEDLAB_MODEL"])
        return [str(job_id) for job_id in Queue(name, connection=Redis.from_url(REDIS_URL)).job_ids]

    def rq_depth(self) -> int:
        """How many jobs rq's queue holds, read from Redis directly (not through the API)."""
        return len(self.rq_queue_ids())

    def close(self) -> int:
        signal.setitimer(signal.ITIMER_REAL, 0)  # a hard limit must not cut the cleanup short (it is bounded)
        try:
            removed = super().close()
            print(f"cleanup: stopped processes, deleted {removed} Redis keys of {self.prefix}")
            return removed
        finally:
            self._tmp.cleanup()
