"""The end-to-end tests' settings for the shared harness (`tests/harness.py`), and moto's S3 server over HTTP."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.harness import BIN, ROOT, free_port, stack_env, wait_until


def base_env(redis_url: str, key_prefix: str, storage_url: str, model_cache: Path) -> dict[str, str]:
    """The tiny model from `model_cache`, no warm-up, and heartbeats fast enough for the fault tests."""
    return stack_env(
        redis_url,
        key_prefix,
        storage_url,
        SCHEDLAB_MODEL_CACHE_DIR=str(model_cache),
        SCHEDLAB_WARMUP="false",
        SCHEDLAB_WORKER_HEARTBEAT_S="0.5",
        SCHEDLAB_WORKER_DEAD_AFTER_S="3",
        PYTHONPATH=str(ROOT),  # test fixtures (e.g. tests.e2e.faulty_worker) run as modules
    )


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
