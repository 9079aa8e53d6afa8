"""Real processes for end-to-end tests and benchmarks: `schedlab api` under uvicorn and `schedlab worker`s on one
private Redis key prefix and one storage backend, each with its output in a log file, and the removal of every
Redis key they leave behind (`RedisKeys.delete_everything`).

`tests/e2e/stack.py` adds moto's S3 server and the test settings; `benchmarks/_stack.py` adds a temporary folder,
a hard time limit and CPU accounting.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from redis import Redis

from service.redis_keys import RedisKeys

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout_s: float, what: str, interval_s: float = 0.05) -> Any:
    """The predicate's first truthy value, asked every `interval_s`; AssertionError after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")


def stack_env(redis_url: str, key_prefix: str, storage_url: str, **settings: str) -> dict[str, str]:
    """This process's environment without its own SCHEDLAB_* variables, plus the stack's (`settings` last)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SCHEDLAB_")}
    env.update(
        {
            "SCHEDLAB_REDIS_URL": redis_url,
            "SCHEDLAB_KEY_PREFIX": key_prefix,
            "SCHEDLAB_STORAGE_URL": storage_url,
            "SCHEDLAB_MODEL": "tiny",
            "SCHEDLAB_TORCH_THREADS": "1",
            "PYTHONUNBUFFERED": "1",
            "PYTHONWARNINGS": "ignore",
            **settings,
        }
    )
    return env


class Process:
    """A child process, its output (stdout and stderr) in a log file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], cwd: Path, log: Path) -> None:
        self.name = name
        self.log = log
        with log.open("wb") as handle:
            self.popen = subprocess.Popen(args, env=env, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 30) -> int:
        """`sig` (SIGTERM: uvicorn and rq shut down warm), then SIGKILL if it does not exit in time."""
        if self.alive():
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
        return int(self.popen.returncode)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.output().splitlines()[-lines:])


class Stack:
    """An API server and workers sharing one Redis prefix and one storage backend; logs and cwd in `workdir`.

    Leaving it as a context manager stops every process it started and deletes the prefix's Redis keys.
    """

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir  # also the processes' cwd, so no stray .env is read
        self.prefix = env["SCHEDLAB_KEY_PREFIX"]
        self.keys = RedisKeys(self.prefix)
        self.redis = Redis.from_url(env["SCHEDLAB_REDIS_URL"], decode_responses=True)
        self.processes: list[Process] = []
        self.api: Process | None = None
        self.workers: list[Process] = []
        self.base_url = ""
        self._port = free_port()

    def _spawn(self, name: str, args: list[str], extra_env: dict[str, str] | None = None) -> Process:
        log = self.workdir / f"{len(self.processes) + 1:02d}-{name}.log"  # numbered: a restart keeps the old log
        process = Process(name, args, {**self.env, **(extra_env or {})}, self.workdir, log)
        self.processes.append(process)
        return process

    # -- the API -----------------------------------------------------------------------------------------------
    def start_api(self, workers: int = 1) -> str:
        """`schedlab api --workers N` on this stack's loopback port (the same port on a restart); returns its base
        URL once /healthz answers."""
        self.stop_api()
        args = [str(BIN / "schedlab"), "api", "--host", "127.0.0.1", "--port", str(self._port)]
        api = self.api = self._spawn(f"api-w{workers}", [*args, "--workers", str(workers)])
        self.base_url = f"http://127.0.0.1:{self._port}"

        def healthy() -> bool:
            assert api.alive(), f"the API exited:\n{api.tail()}"
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

    # -- workers -----------------------------------------------------------------------------------------------
    def start_worker(
        self,
        name: str,
        module: str | None = None,
        extra_env: dict[str, str] | None = None,
        wait: bool = True,
        timeout_s: float = 300,
    ) -> Process:
        """`schedlab worker` (or `python -m module`, a test fixture that wraps it), named `{prefix}-{name}`; with
        `wait`, returns once its heartbeat is in Redis (model loaded, warmed up)."""
        worker_name = f"{self.prefix}-{name}"
        command = [sys.executable, "-m", module] if module else [str(BIN / "schedlab"), "worker"]
        process = self._spawn(name, [*command, "--name", worker_name], extra_env)
        self.workers.append(process)
        if wait:

            def ready() -> bool:
                assert process.alive(), f"worker {name} exited:\n{process.tail()}"
                return bool(self.redis.exists(self.keys.worker(worker_name)))

            wait_until(ready, timeout_s, f"worker {name} to load its model", interval_s=0.1)
        return process

    def worker_names(self) -> set[str]:
        """The workers the API reports alive."""
        try:
            body = httpx.get(f"{self.base_url}/readyz", timeout=2).json()
        except (httpx.HTTPError, ValueError):
            return set()
        return {worker["name"] for worker in body.get("workers", [])}

    def stop_workers(self) -> None:
        for process in self.workers:
            process.stop(timeout_s=60)
        self.workers.clear()

    # -- lifetime ----------------------------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop every process, the newest first."""
        for process in reversed(self.processes):
            process.stop(signal.SIGTERM, timeout_s=20)
        self.api = None
        self.workers.clear()

    def close(self) -> int:
        """Stop every process and delete every Redis key of this stack; returns how many keys were deleted."""
        try:
            self.stop()
        finally:
            removed = self.keys.delete_everything(self.redis)
        return removed

    def logs(self, lines: int = 20) -> str:
        """The last lines of every process's log."""
        return "\n".join(f"--- {p.log.name} (last lines)\n{p.tail(lines)}" for p in self.processes)

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
