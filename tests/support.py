"""Helpers shared by the tests."""

from __future__ import annotations

from service.contract import ComparisonSpec, StorageLayout
from service.storage import MemoryStorage
from worker.engine import ComparisonEngine, ComparisonOutcome


def run_spec(engine: ComparisonEngine, **fields: object) -> tuple[ComparisonOutcome, MemoryStorage]:
    defaults: dict[str, object] = {
        "prompt": "a red circle on a black background",
        "seed": 7,
        "num_images": 2,
        "steps": 6,
    }
    spec = ComparisonSpec.model_validate({**defaults, **fields})
    sink = MemoryStorage()
    return engine.run(spec, sink, StorageLayout("")), sink
