"""The worker's step events: one per completed scheduler step, with the step's timestep and sigma as plain diffusers
sets them, and frames that are already stored when the event goes out."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from diffusers import DDIMScheduler, EulerDiscreteScheduler, HeunDiscreteScheduler
from redis import Redis

from service.contract import ComparisonSpec, JobEventType, StorageLayout
from service.job_store import JobStore
from service.storage import MemoryStorage
from tests.worker.plain_diffusers import SD1_CATALOG
from worker.engine import ComparisonEngine
from worker.rq_job import WorkerRuntime, _JobListener


class _CheckingListener(_JobListener):
    """The worker's listener, also asserting that each announced frame is in storage before its event."""

    sink: MemoryStorage

    def on_progress(self, *args: object, frames: Sequence[str] = (), **details: object) -> None:
        assert all(key in self.sink.files for key in frames), frames
        super().on_progress(*args, frames=frames, **details)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "scheduler_class"),
    [("euler", EulerDiscreteScheduler), ("ddim", DDIMScheduler), ("heun", HeunDiscreteScheduler)],
)
def test_one_step_event_per_scheduler_step_with_diffusers_timesteps_and_stored_frames(
    engine: ComparisonEngine, redis_url: str, key_prefix: str, name: str, scheduler_class: type
) -> None:
    store = JobStore(Redis.from_url(redis_url, decode_responses=True), key_prefix)
    spec = ComparisonSpec(
        prompt="a red circle", schedulers=[{"name": name}], steps=6, num_images=2, capture={"steps": [2, 4]}
    )
    store.create("j1", spec)
    store.start("j1", "w1")
    sink = MemoryStorage()
    runtime = WorkerRuntime("w1", engine, store, sink)  # type: ignore[arg-type]
    listener = _CheckingListener(runtime, "j1", spec)
    listener.sink = sink
    engine.run(spec, sink, StorageLayout.for_job("j1"), listener=listener)

    steps = [event.data for event in store.events("j1") if event.type is JobEventType.step]
    assert [s["step"] for s in steps] == [1, 2, 3, 4, 5, 6] and {s["of"] for s in steps} == {6}
    # The independent path: the scheduler diffusers builds from the model's config and the entry's documented
    # preset (A1111's Euler and Heun run "linspace" timesteps), on the same number of steps.
    preset = next(entry for entry in SD1_CATALOG.entries if entry.id == name).preset_config
    reference = scheduler_class.from_config(engine.model.scheduler_config, **preset)
    reference.set_timesteps(6)
    calls = len(reference.timesteps)  # Heun: 2N - 1 calls; a step completes on every second one, and the last
    completed = [i for i in range(calls) if i == calls - 1 or (i + 1) % reference.order == 0]
    expected_t = [float(reference.timesteps[i]) for i in completed]
    assert [s["timestep"] for s in steps] == pytest.approx(expected_t)
    if hasattr(reference, "sigmas") and name == "euler":
        assert [s["sigma"] for s in steps] == pytest.approx([float(x) for x in reference.sigmas[1:7]])
    if name == "ddim":
        assert {s["sigma"] for s in steps} == {None}
    folder = StorageLayout.for_job("j1").root + StorageLayout.scheduler_folder(0, name)
    assert [s["frames"] for s in steps if s["frames"]] == [
        [f"{folder}/frames/step-{k:04d}/image-{i}.png" for i in range(2)] for k in (2, 4)
    ]
    done = [event.data for event in store.events("j1") if event.type is JobEventType.scheduler_done]
    assert len(done) == 1 and done[0]["frames"][-1]["step"] == 6  # the final frames come with the result
