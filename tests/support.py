"""Helpers shared by the tests."""

from __future__ import annotations

from service.contract import ComparisonSpec, StorageLayout
from worker.engine import ComparisonEngine, ComparisonOutcome


class MemorySink:
    """An in-memory ArtifactSink: key -> bytes, in write order."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self.files[key] = data


def run_spec(engine: ComparisonEngine, **fields: object) -> tuple[ComparisonOutcome, MemorySink]:
    defaults: dict[str, object] = {
        "prompt": "a red circle on a black background",
        "seed": 7,
        "num_images": 2,
        "steps": 6,
    }
    spec = ComparisonSpec.model_validate({**defaults, **fields})
    sink = MemorySink()
    return engine.run(spec, sink, StorageLayout("")), sink
