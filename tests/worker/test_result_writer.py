"""The one writer of a comparison's files: the order, failure and memory promises of its background writes."""

from __future__ import annotations

import threading
import time

import pytest
from PIL import Image

from service.contract import StorageLayout
from service.errors import StorageError
from service.storage import MemoryStorage
from tests.harness import wait_until
from worker.result_writer import ResultWriter

IMAGE = Image.new("RGB", (8, 8), "red")
FOLDER = "comparisons/j1/01-euler"


class SlowStorage(MemoryStorage):
    """PNGs take a while to land; records the order in which writes completed."""

    def __init__(self, png_delay_s: float = 0.0) -> None:
        super().__init__()
        self.png_delay_s = png_delay_s
        self.landed: list[str] = []
        self.lock = threading.Lock()

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        if content_type == "image/png":
            time.sleep(self.png_delay_s)
        super().put_bytes(key, data, content_type)
        with self.lock:
            self.landed.append(key)


def test_the_manifest_lands_after_every_file_it_names() -> None:
    storage = SlowStorage(png_delay_s=0.05)
    writer = ResultWriter(storage, StorageLayout.for_job("j1"))
    keys = [*writer.frames(FOLDER, 1, [IMAGE, IMAGE]), writer.grid(FOLDER, IMAGE)]
    manifest = writer.manifest(b"{}")
    writer.close()
    assert storage.landed[-1] == manifest and set(storage.landed[:-1]) == set(keys)


def test_a_failed_write_fails_the_next_write_not_only_the_end_of_the_run() -> None:
    class FailingStorage(MemoryStorage):
        def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
            raise StorageError("the bucket is gone")

    writer = ResultWriter(FailingStorage(), StorageLayout.for_job("j1"))
    writer.frames(FOLDER, 1, [IMAGE])
    wait_until(lambda: all(future.done() for future in writer.pending), 10, "the first write to fail")
    with pytest.raises(StorageError, match="the bucket is gone"):
        writer.frames(FOLDER, 2, [IMAGE])
    writer.close()


def test_a_slow_store_holds_the_run_back_instead_of_piling_up_frames() -> None:
    class BlockedStorage(MemoryStorage):
        def __init__(self) -> None:
            super().__init__()
            self.open = threading.Event()

        def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
            self.open.wait(10)
            super().put_bytes(key, data, content_type)

    storage = BlockedStorage()
    writer = ResultWriter(storage, StorageLayout.for_job("j1"), workers=2, max_pending=4)
    submitted = []

    def run() -> None:
        for step in range(10):
            writer.frames(FOLDER, step, [IMAGE])
            submitted.append(step)

    sampling = threading.Thread(target=run)
    sampling.start()
    wait_until(lambda: len(submitted) >= 4, 10, "four writes submitted")
    time.sleep(0.3)  # room for a fifth, were it let through
    held_at = len(submitted)
    storage.open.set()
    sampling.join(10)
    writer.flush()
    writer.close()
    assert held_at == 4  # four writes in flight, the fifth waits for the first
    assert len(storage.files) == 10
