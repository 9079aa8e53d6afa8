"""Shared by the service benchmarks: `schedlab api` and `schedlab worker` as subprocesses on a private Redis
key prefix, a hard time limit for the whole script, and removal of every Redis key the run left behind.

The benchmarks use Redis database 12 (tests use 13) and a prefix of their own, `schedlab-bench-<random>`;
`SCHEDLAB_BENCH_REDIS_URL` points them elsewhere. Nothing here is imported by the service or the tests.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
from redis import Redis

REDIS_URL = os.environ.get("SCHEDLAB_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
BIN = Path(sys.executable).parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout_s: float, what: str, interval_s: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    raise RuntimeError(f"timed out after {timeout_s:.0f} s waiting for {what}")


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


class Process:
    """A child process started by this script, with its output in a log file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.name = name
        self.log = cwd / f"{name}.log"
        with self.log.open("wb") as handle:
            self.popen = subprocess.Popen(args, env=env, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout_s: float = 30) -> None:
        """SIGTERM (uvicorn and rq shut down warm), then SIGKILL if it does not exit in time."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


class Stack:
    """The API and workers on one private prefix and one local storage directory, all under a temp folder.

    Use as a context manager: leaving it stops every process it started and deletes the prefix's Redis keys.
    """

    def __init__(self, extra_env: dict[str, str] | None = None, model_cache_dir: Path | None = None) -> None:
        self.prefix = f"schedlab-bench-{uuid.uuid4().hex[:8]}"
        self._tmp = tempfile.TemporaryDirectory(prefix=f"{self.prefix}-")
        self.workdir = Path(self._tmp.name)  # also the processes' cwd, so no stray .env is read
        self.storage_dir = self.workdir / "storage"
        self.storage_dir.mkdir()
        env = {key: value for key, value in os.environ.items() if not key.startswith("SCHEDLAB_")}
        env.update(
            {
                "SCHEDLAB_REDIS_URL": REDIS_URL,
                "SCHEDLAB_KEY_PREFIX": self.prefix,
                "SCHEDLAB_STORAGE_URL": self.storage_dir.as_uri(),
                "SCHEDLAB_MODEL": "tiny",
                "SCHEDLAB_TORCH_THREADS": "1",
                "SCHEDLAB_WARMUP": "true",
                "PYTHONUNBUFFERED": "1",
                "PYTHONWARNINGS": "ignore",
            }
        )
        if model_cache_dir is not None:
            env["SCHEDLAB_MODEL_CACHE_DIR"] = str(model_cache_dir)
        env.update(extra_env or {})
        self.env = env
        self.redis = Redis.from_url(REDIS_URL, decode_responses=True)
        self.api: Process | None = None
        self.workers: list[Process] = []
        self.base_url = ""
        self._port = free_port()
        self._spawned = 0

    # -- processes -------------------------------------------------------------------------------------------
    def _spawn(self, name: str, args: list[str]) -> Process:
        self._spawned += 1
        return Process(f"{self._spawned:02d}-{name}", args, self.env, self.workdir)

    def start_api(self, workers: int = 1) -> str:
        """`schedlab api --workers N` on a free loopback port; returns its base URL once /healthz answers."""
        self.stop_api()
        args = [str(BIN / "schedlab"), "api", "--host", "127.0.0.1", "--port", str(self._port)]
        self.api = self._spawn(f"api-w{workers}", [*args, "--workers", str(workers)])
        self.base_url = f"http://127.0.0.1:{self._port}"
        api = self.api

        def healthy() -> bool:
            if not api.alive():
                raise RuntimeError(f"the API exited:\n{api.tail()}")
            try:
                return httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, 60, "the API to answer /healthz")
        if workers > 1:
            time.sleep(1.0)  # let every uvicorn worker process finish starting, not only the first
        return self.base_url

    def stop_api(self) -> None:
        if self.api is not None:
            self.api.stop()
            self.api = None

    def start_worker(self, name: str = "w1", timeout_s: float = 300) -> Process:
        """`schedlab worker`; returns once its heartbeat is in Redis (model loaded and warmed up)."""
        worker_name = f"{self.prefix}-{name}"
        process = self._spawn(name, [str(BIN / "schedlab"), "worker", "--name", worker_name])
        self.workers.append(process)

        def ready() -> bool:
            if not process.alive():
                raise RuntimeError(f"worker {name} exited:\n{process.tail()}")
            return bool(self.redis.exists(f"{self.prefix}:worker:{worker_name}"))

        wait_until(ready, timeout_s, f"worker {name} to load its model", interval_s=0.2)
        return process

    def stop_workers(self) -> None:
        for process in self.workers:
            process.stop(timeout_s=60)
        self.workers.clear()

    # -- Redis -----------------------------------------------------------------------------------------------
    @property
    def queue_name(self) -> str:
        return f"{self.prefix}-comparisons@{self.env.get('SCHEDLAB_MODEL', 'demo')}"

    def rq_depth(self) -> int:
        """How many jobs rq's queue holds, read from Redis directly (not through the API)."""
        return len(self.rq_queue_ids())

    def rq_queue_ids(self) -> list[str]:
        """The job ids in rq's queue, in order, read from Redis directly (not through the API)."""
        from rq import Queue

        return [str(job_id) for job_id in Queue(self.queue_name, connection=Redis.from_url(REDIS_URL)).job_ids]

    def cleanup_redis(self) -> int:
        """Delete every key naming the prefix or one of its jobs (rq's too), and the prefix's rq registrations."""
        job_ids = {
            key.rsplit(":", 1)[1] for key in self.redis.scan_iter(match=f"{self.prefix}:job:*") if key.count(":") == 2
        }
        doomed = []
        for key in self.redis.scan_iter(match="*", count=1000):  # one pass, not one scan per job
            if self.prefix in key or any(found in job_ids for found in _UUID.findall(key)):
                doomed.append(key)
        for start in range(0, len(doomed), 500):
            self.redis.delete(*doomed[start : start + 500])
        for registry in ("rq:workers", "rq:queues"):
            members = [member for member in self.redis.smembers(registry) if self.prefix in member]
            if members:
                self.redis.srem(registry, *members)
        return len(doomed)

    # -- lifetime --------------------------------------------------------------------------------------------
    def close(self) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)  # a hard limit must not cut the cleanup short (it is bounded)
        try:
            self.stop_workers()
            self.stop_api()
        finally:
            removed = self.cleanup_redis()
            print(f"cleanup: stopped processes, deleted {removed} Redis keys of {self.prefix}")
            self._tmp.cleanup()

    def logs(self) -> str:
        parts = []
        for log in sorted(self.workdir.glob("*.log")):
            lines = log.read_text(errors="replace").splitlines()[-20:]
            parts.append(f"--- {log.name} (last lines)\n" + "\n".join(lines))
        return "\n".join(parts)

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
