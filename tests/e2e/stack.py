"""Real processes for end-to-end tests: uvicorn (`schedlab api`), `schedlab worker`s and moto's S3 server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


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
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 30) -> int:
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


@dataclass
class Stack:
    """An API server and workers sharing one Redis prefix and one storage backend."""

    env: dict[str, str]
    workdir: Path
    processes: list[Process] = field(default_factory=list)
    api: Process | None = None
    base_url: str = ""

    def _spawn(self, name: str, args: list[str], extra_env: dict[str, str] | None = None) -> Process:
        log = self.workdir / f"{name}.log"
        handle = log.open("wb")
        popen = subprocess.Popen(
            args,
            env={**self.env, **(extra_env or {})},
            stdout=handle,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
        )
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def start_api(self) -> None:
        port = free_port()
        self.api = self._spawn("api", [str(BIN / "schedlab"), "api", "--port", str(port)])
        self.base_url = f"http://127.0.0.1:{port}"
        wait_until(self._healthy, 30, "the API to answer /healthz")

    def restart_api(self) -> None:
        assert self.api is not None
        self.api.stop()
        port = int(self.base_url.rsplit(":", 1)[1])
        self.api = self._spawn("api-restarted", [str(BIN / "schedlab"), "api", "--port", str(port)])
        wait_until(self._healthy, 30, "the restarted API to answer /healthz")

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def start_worker(
        self, name: str, module: str | None = None, extra_env: dict[str, str] | None = None, wait: bool = True
    ) -> Process:
        """`schedlab worker`, or `python -m module` for a test fixture that wraps it."""
        worker_name = f"{self.env['SCHEDLAB_KEY_PREFIX']}-{name}"
        command = [sys.executable, "-m", module] if module else [str(BIN / "schedlab"), "worker"]
        process = self._spawn(name, [*command, "--name", worker_name], extra_env)
        if wait:
            wait_until(lambda: worker_name in self.worker_names() or not process.alive(), 120, f"worker {name}")
            assert process.alive(), process.output()
        return process

    def worker_names(self) -> set[str]:
        try:
            body = httpx.get(f"{self.base_url}/readyz", timeout=2).json()
        except (httpx.HTTPError, ValueError):
            return set()
        return {worker["name"] for worker in body.get("workers", [])}

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop(signal.SIGTERM, timeout_s=20)


def base_env(redis_url: str, key_prefix: str, storage_url: str, model_cache: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SCHEDLAB_")}
    env.update(
        {
            "SCHEDLAB_REDIS_URL": redis_url,
            "SCHEDLAB_KEY_PREFIX": key_prefix,
            "SCHEDLAB_STORAGE_URL": storage_url,
            "SCHEDLAB_MODEL": "tiny",
            "SCHEDLAB_MODEL_CACHE_DIR": str(model_cache),
            "SCHEDLAB_TORCH_THREADS": "1",
            "SCHEDLAB_WARMUP": "false",
            "SCHEDLAB_WORKER_HEARTBEAT_S": "0.5",
            "SCHEDLAB_WORKER_DEAD_AFTER_S": "3",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(ROOT),  # test fixtures (e.g. tests.e2e.faulty_worker) run as modules
            "PYTHONWARNINGS": "ignore",
        }
    )
    return env


@dataclass
class MotoServer:
    process: subprocess.Popen[bytes]
    endpoint: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def start_moto(port: int | None = None) -> MotoServer:
    port = port or free_port()
    process = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(endpoint, timeout=1).status_code < 500
        except httpx.HTTPError:
            return False

    wait_until(up, 30, "moto_server")
    return MotoServer(process, endpoint)
