"""The one writer of a comparison's files: it owns their storage keys (`StorageLayout`), PNG encoding and the
storage they go to.

PNGs are encoded and written on a few threads, so sampling goes on meanwhile: PNG encoding holds no GIL (Pillow
releases it) and at 512x512 costs about as much as a UNet step on a GPU. `flush` waits for every pending write and
raises the first error (a storage failure fails the job); the engine flushes before a step event or a scheduler's
result is announced and before the manifest, so nothing announced names a missing file.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from PIL import Image

from service.contract import StorageLayout, SweepAnswer
from service.storage import Storage
from worker.frames import png_bytes


class ResultWriter:
    """Writes one comparison's files under `keys` to `storage`; each method returns the key(s) it wrote."""

    def __init__(self, storage: Storage, keys: StorageLayout, workers: int = 4, max_pending: int = 64) -> None:
        self.storage = storage
        self.keys = keys
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="schedlab-write")
        self.pending: list[Future[None]] = []
        self.max_pending = max_pending

    # -- a scheduler run's files (`folder`: the run's folder under the job's) ----------------------------------
    def frames(self, folder: str, step: int, images: Sequence[Image.Image]) -> list[str]:
        return [self._png(self.keys.frame(folder, step, i), image) for i, image in enumerate(images)]

    def final_images(self, folder: str, images: Sequence[Image.Image]) -> list[str]:
        return [self._png(self.keys.final_image(folder, i), image) for i, image in enumerate(images)]

    def grid(self, folder: str, image: Image.Image) -> str:
        return self._png(self.keys.grid(folder), image)

    def reference_images(self, guidance_scale: float, seed: int, images: Sequence[Image.Image]) -> list[str]:
        return [self._png(self.keys.reference_image(guidance_scale, seed, i), image) for i, image in enumerate(images)]

    # -- the job's files -----------------------------------------------------------------------------------------
    def contact_sheet(self, image: Image.Image) -> str:
        return self._png(self.keys.contact_sheet, image)

    def chart(self, name: str, png: bytes) -> str:
        return self._put(self.keys.chart(name), png, "image/png")

    def sweep_grid(self, guidance_scale: float, seed: int, page: int, pages: int, image: Image.Image) -> str:
        return self._png(self.keys.sweep_grid(guidance_scale, seed, page, pages), image)

    def sweep_plot(self, png: bytes) -> str:
        return self._put(self.keys.sweep_plot, png, "image/png")

    def sweep_answer(self, document: SweepAnswer) -> str:
        return self._put(self.keys.sweep_answer, document.model_dump_json(indent=2).encode(), "application/json")

    def manifest(self, document: bytes) -> str:
        """Written last, once every other file is readable: a manifest never names a missing file."""
        self.flush()
        self._put(self.keys.manifest, document, "application/json")
        self.flush()
        return self.keys.manifest

    # -- writing ------------------------------------------------------------------------------------------------
    def _png(self, key: str, image: Image.Image) -> str:
        self._submit(self.pool.submit(self._encode_and_put, key, image))
        return key

    def _encode_and_put(self, key: str, image: Image.Image) -> None:
        self.storage.put_bytes(key, png_bytes(image), "image/png")

    def _put(self, key: str, data: bytes, content_type: str) -> str:
        self._submit(self.pool.submit(self.storage.put_bytes, key, data, content_type))
        return key

    def _submit(self, future: Future[None]) -> None:
        # A failed write fails the job at the next write, not at the end of a long run; a slow store holds the
        # run back (at most `max_pending` writes in flight) instead of piling frames up in memory.
        still_pending = []
        for earlier in self.pending:
            if earlier.done():
                earlier.result()
            else:
                still_pending.append(earlier)
        if len(still_pending) >= self.max_pending:
            still_pending.pop(0).result()
        self.pending = [*still_pending, future]

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        for future in pending:
            future.result()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
