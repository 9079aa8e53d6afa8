"""Lock-step (batched) execution: the same results as sequential, each quirk kept, memory bounded, failures clear.

Sequential execution is the bit-exact reference against plain diffusers (tests/worker/test_engine.py); here
batched runs are compared with it, and the runner's own interface with plain `pipe(...)` calls.
"""

from __future__ import annotations

import io
import json
import time
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from service.contract import ComparisonSpec, SchedulerChoice, SchedulerResult, StorageLayout
from service.storage import MemoryStorage
from tests.support import run_spec
from tests.worker.test_engine import SD1_CATALOG
from worker.engine import ComparisonEngine
from worker.lockstep import (
    CPU_DEFAULT_MAX_BATCH,
    BatchOutOfMemory,
    EncodedPrompt,
    LockstepRunner,
    Run,
    RunHooks,
    RunState,
    default_max_batch,
)
from worker.registry import build_scheduler, entry_by_id
from worker.rq_job import describe_failure
from worker.scheduler_run import RunListener

# Every entry an SD 1.x epsilon model can run (the tiny model's catalog).
AVAILABLE = [entry.id for entry in SD1_CATALOG.available()]
PROMPT = "a red circle on a black background"


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(np.int16)


def scheduler(engine: ComparisonEngine, name: str, seed: int = 0) -> Any:
    """A fresh instance, built as the engine builds it (DPMSolverSDE's noise_sampler_seed = seed)."""
    choice = SchedulerChoice(name=name)
    return build_scheduler(entry_by_id(name), engine.model.scheduler_config, choice, seed, "s").scheduler


def embeds(engine: ComparisonEngine, prompt: str = PROMPT) -> EncodedPrompt:
    positive, negative = engine.model.pipe.encode_prompt(prompt, engine.model.device, 1, True, None)
    return EncodedPrompt(positive, negative)


def generators(seed: int, images: int) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(seed + i) for i in range(images)]


class StepLog(RunHooks):
    def __init__(self) -> None:
        self.steps: list[int] = []
        self.finished: str | None = None
        self.latents: torch.Tensor | None = None

    def on_step(self, state: RunState, step: int) -> None:
        self.steps.append(step)

    def on_finish(self, state: RunState) -> None:
        self.finished = state.status
        self.latents = state.latents


def make_run(engine: ComparisonEngine, name: str, steps: int, hooks: RunHooks, **fields: Any) -> Run:
    values: dict[str, Any] = {
        "scheduler": scheduler(engine, name, fields.pop("sde_seed", 0)),
        "steps": steps,
        "guidance_scale": 7.5,
        "generators": generators(fields.pop("seed", 0), fields.pop("images", 2)),
        "embeds": embeds(engine),
        "height": 64,
        "width": 64,
        "hooks": hooks,
    }
    return Run(**{**values, **fields})


def plain_pipeline_latents(
    engine: ComparisonEngine, name: str, steps: int, guidance: float, seed: int, images: int
) -> torch.Tensor:
    pipe = engine.model.pipe
    pipe.scheduler = scheduler(engine, name, seed)
    return pipe(
        PROMPT,
        num_inference_steps=steps,
        guidance_scale=guidance,
        num_images_per_prompt=images,
        generator=generators(seed, images),
        output_type="latent",
    ).images


# ---------------------------------------------------------------------------------------------------------------
# Same results as sequential


def test_batched_equals_sequential_for_every_registry_entry(engine: ComparisonEngine) -> None:
    fields = {"schedulers": [{"name": name} for name in AVAILABLE], "steps": 4, "seed": 3, "capture": {"every": 2}}
    batched, batched_files = run_spec(engine, execution="batched", **fields)
    sequential, sequential_files = run_spec(engine, execution="sequential", **fields)
    assert len(batched.final_latents) == len(sequential.final_latents) == len(AVAILABLE)
    for ours, theirs, latent_b, latent_s in zip(
        batched.results, sequential.results, batched.final_latents, sequential.final_latents, strict=True
    ):
        # The bound is 1e-4 for latents of unit scale; the tiny model's random UNet leaves final latents
        # of magnitude up to ~70 (it never denoises), so the bound scales with them: fp32 rounding is relative.
        scale = max(1.0, float(latent_s.abs().max()))
        assert float((latent_b - latent_s).abs().max()) <= 1e-4 * scale, ours.id
        assert ours.timings.unet_calls == theirs.timings.unet_calls, ours.id
        assert [(f.step, f.image_index) for f in ours.frames] == [(f.step, f.image_index) for f in theirs.frames]
        assert [step for step, _ in ours.convergence] == [step for step, _ in theirs.convergence]
        for key_b, key_s in zip(ours.final_images, theirs.final_images, strict=True):
            difference = np.abs(pixels(batched_files.files[key_b]) - pixels(sequential_files.files[key_s]))
            assert (difference <= 1).mean() >= 0.999, key_b
        for frame in ours.frames:  # frames too: the same steps, the same pictures
            difference = np.abs(pixels(batched_files.files[frame.key]) - pixels(sequential_files.files[frame.key]))
            assert (difference <= 1).mean() >= 0.999, frame.key


def test_a_run_alone_in_the_batch_equals_plain_diffusers_bit_for_bit(engine: ComparisonEngine) -> None:
    for name in ("euler_a", "heun", "pndm", "dpmpp_2m_sde"):
        log = StepLog()
        LockstepRunner(engine.model.pipe).run([make_run(engine, name, 5, log, seed=4, sde_seed=4)])
        expected = plain_pipeline_latents(engine, name, 5, 7.5, 4, 2)
        assert torch.equal(log.latents, expected), name


def test_runs_with_their_own_steps_guidance_and_seeds_share_one_batch(engine: ComparisonEngine) -> None:
    """The runner's interface for sweeps: each run has its own steps, guidance, images and seeds."""
    cells = [("euler", 3, 7.5, 1, 2), ("euler", 6, 1.0, 2, 1), ("dpmpp_2m", 4, 3.0, 3, 3), ("heun", 3, 7.5, 4, 2)]
    logs = [StepLog() for _ in cells]
    runs = [
        make_run(engine, name, steps, log, guidance_scale=guidance, seed=seed, images=images)
        for (name, steps, guidance, seed, images), log in zip(cells, logs, strict=True)
    ]
    report = LockstepRunner(engine.model.pipe).run(runs)
    # Tick 1: 2*2 + 1 + 2*3 + 2*2 samples (guidance 1.0 needs no unconditional half); then runs drop out.
    assert max(report.batch_sizes) == 15
    assert report.ticks == 6  # the 6-step Euler run is the longest (heun: 2*3-1 = 5 calls)
    for (name, steps, guidance, seed, images), log, state in zip(cells, logs, report.states, strict=True):
        assert log.steps == list(range(1, steps + 1)) and log.finished == "finished"
        expected = plain_pipeline_latents(engine, name, steps, guidance, seed, images)
        torch.testing.assert_close(log.latents, expected, rtol=0, atol=1e-4 * max(1.0, float(expected.abs().max())))
        assert state.unet_calls == (2 * steps - 1 if name == "heun" else steps)


# ---------------------------------------------------------------------------------------------------------------
# Scheduler quirks in lock-step


def test_pndm_repeated_second_timestep_takes_part_in_one_more_tick(engine: ComparisonEngine) -> None:
    pndm, euler = StepLog(), StepLog()
    report = LockstepRunner(engine.model.pipe).run(
        [make_run(engine, "pndm", 4, pndm), make_run(engine, "euler", 4, euler)]
    )
    assert [state.unet_calls for state in report.states] == [5, 4]
    assert report.ticks == 5 and report.batch_sizes == {8: 4, 4: 1}
    assert pndm.steps == euler.steps == [1, 2, 3, 4]  # PNDM's repeated timestep is no step of its own


@pytest.mark.parametrize("name", ["heun", "dpm2", "dpm2_a", "dpmpp_sde"])
def test_order2_schedulers_two_unet_calls_per_step_in_lockstep(engine: ComparisonEngine, name: str) -> None:
    second_order, euler = StepLog(), StepLog()
    report = LockstepRunner(engine.model.pipe).run(
        [make_run(engine, name, 4, second_order), make_run(engine, "euler", 4, euler)]
    )
    assert report.states[0].unet_calls == 2 * 4 - 1 and report.states[1].unet_calls == 4
    assert second_order.steps == euler.steps == [1, 2, 3, 4]  # never the provisional midpoint
    outcome, _ = run_spec(engine, schedulers=[{"name": name}, {"name": "euler"}], capture={"every": 1}, steps=4)
    assert sorted({frame.step for frame in outcome.results[0].frames}) == [1, 2, 3, 4]


def test_stochastic_per_image_generators_draw_as_in_the_pipeline(engine: ComparisonEngine) -> None:
    """Each run draws its noise from its own generators, exactly as many draws as the pipeline makes."""
    for name in ("euler_a", "ddpm", "dpm2_a", "dpmpp_2m_sde"):
        log = StepLog()
        run = make_run(engine, name, 4, log, seed=8)
        companion = make_run(engine, "euler_a", 4, StepLog(), seed=8)  # same seeds, its own generators
        LockstepRunner(engine.model.pipe).run([run, companion])
        pipe_generators = generators(8, 2)
        pipe = engine.model.pipe
        pipe.scheduler = scheduler(engine, name)
        pipe(PROMPT, num_inference_steps=4, num_images_per_prompt=2, generator=pipe_generators, output_type="latent")
        for ours, theirs in zip(run.generators, pipe_generators, strict=True):
            assert torch.equal(ours.get_state(), theirs.get_state()), name


def test_dpmsolver_sde_own_noise_seed_in_lockstep(engine: ComparisonEngine) -> None:
    fields = {"schedulers": [{"name": "dpmpp_sde"}, {"name": "euler_a"}], "execution": "batched"}
    first, first_files = run_spec(engine, seed=5, **fields)
    torch.manual_seed(1234)  # DPMSolverSDE would read the global RNG without its noise_sampler_seed
    torch.randn(100)
    _, again_files = run_spec(engine, seed=5, **fields)
    _, other_files = run_spec(engine, seed=6, **fields)
    key = first.results[0].final_images[0]
    assert first_files.files[key] == again_files.files[key]
    assert first_files.files[key] != other_files.files[key]
    assert first.results[0].effective_config["noise_sampler_seed"] == 5


def test_prompt_is_encoded_once_and_the_unet_runs_once_per_tick(engine: ComparisonEngine) -> None:
    text_calls, unet_calls = [], []
    handles = [
        engine.model.pipe.text_encoder.register_forward_hook(lambda *args: text_calls.append(1)),
        engine.model.pipe.unet.register_forward_hook(lambda *args: unet_calls.append(1)),
    ]
    try:
        schedulers = [{"name": "euler"}, {"name": "ddim"}, {"name": "heun"}]
        outcome, _ = run_spec(engine, schedulers=schedulers, steps=4, capture={"every": 2})
    finally:
        for handle in handles:
            handle.remove()
    assert len(text_calls) == 2  # the prompt and the empty negative prompt, once for three schedulers
    assert len(unet_calls) == 2 * 4 - 1  # one UNet batch per tick; heun's 7 calls are the longest
    assert outcome.manifest.execution["ticks"] == 7


# ---------------------------------------------------------------------------------------------------------------
# Cancellation, progress, results and the manifest


def test_cancel_stops_every_run_at_the_next_tick_and_keeps_frames(engine: ComparisonEngine) -> None:
    checks = 0

    def stop_after_third_tick() -> bool:
        nonlocal checks
        checks += 1
        return checks >= 3

    spec = ComparisonSpec(
        prompt="a square", steps=8, num_images=1, schedulers=[{"name": "euler"}, {"name": "ddim"}], capture={"every": 1}
    )
    sink = MemoryStorage()
    outcome = engine.run(spec, sink, StorageLayout(""), should_stop=stop_after_third_tick)
    assert outcome.status == "canceled" and checks == 3
    assert [r.status for r in outcome.results] == ["canceled", "canceled"]
    for result in outcome.results:
        assert result.timings.unet_calls == 3
        assert sorted({frame.step for frame in result.frames}) == [1, 2, 3]
        assert all(frame.key in sink.files for frame in result.frames) and result.final_images == []
    assert json.loads(sink.files[outcome.keys.manifest])["status"] == "canceled"


def test_progress_and_scheduler_done_hooks_fire_per_scheduler_in_batched_mode(engine: ComparisonEngine) -> None:
    class Recorder(RunListener):
        def __init__(self) -> None:
            self.progress: dict[int, list[int]] = {}
            self.done: list[SchedulerResult] = []
            self.files_when_done: list[set[str]] = []

        def on_progress(
            self, scheduler_index: int, scheduler: str, steps_done: int, steps_total: int, **step: Any
        ) -> None:
            self.progress.setdefault(scheduler_index, []).append(steps_done)

        def on_scheduler_done(self, result: SchedulerResult) -> None:
            self.done.append(result)
            self.files_when_done.append(set(sink.files))

    class SlowSink(MemoryStorage):  # a store slower than the run: a result announced early would name missing files
        def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
            time.sleep(0.02)
            super().put_bytes(key, data, content_type)

    recorder = Recorder()
    spec = ComparisonSpec(
        prompt="a square", steps=3, num_images=1, schedulers=[{"name": "heun"}, {"name": "euler"}], capture={"every": 2}
    )
    sink = SlowSink()
    outcome = engine.run(spec, sink, StorageLayout(""), listener=recorder)
    assert recorder.progress == {0: [1, 2, 3], 1: [1, 2, 3]}
    assert [r.id for r in recorder.done] == ["euler", "heun"]  # euler finishes first: 3 ticks against 5
    for result, files_then in zip(recorder.done, recorder.files_when_done, strict=True):
        assert {*result.final_images, result.grid} <= files_then  # announced only when its files are stored
    assert [r.id for r in outcome.results] == ["heun", "euler"]  # results in the spec's order


def test_manifest_records_execution_mode_batch_sizes_chunking_and_timing_rule(engine: ComparisonEngine) -> None:
    outcome, sink = run_spec(engine, schedulers=[{"name": "euler"}, {"name": "pndm"}], steps=3, capture={"every": 3})
    execution = json.loads(sink.files[outcome.keys.manifest])["execution"]
    assert execution["mode"] == "batched"
    assert execution["max_batch"] == execution["chunk_size"] == CPU_DEFAULT_MAX_BATCH
    assert execution["tick_batch_sizes"] == {"8": 3, "4": 1} and execution["oom_retries"] == 0
    assert "share" in execution["timing"]
    assert all(result.timings.wall_s > 0 for result in outcome.results)
    sequential, sequential_sink = run_spec(engine, schedulers=[{"name": "euler"}], execution="sequential")
    record = json.loads(sequential_sink.files[sequential.keys.manifest])["execution"]
    assert record["mode"] == "sequential" and record["unet_batch_size"] == 4


# ---------------------------------------------------------------------------------------------------------------
# Memory budget: chunks, and out-of-memory


class OomAbove:
    """A UNet stand-in that raises CUDA's out-of-memory error on batches above `limit`; else the real UNet."""

    def __init__(self, unet: Any, limit: int) -> None:
        self.unet, self.limit = unet, limit
        self.config = unet.config
        self.batch_sizes: list[int] = []

    def __call__(self, sample: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        self.batch_sizes.append(sample.shape[0])
        if sample.shape[0] > self.limit:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 9.00 GiB (injected)")
        return self.unet(sample, *args, **kwargs)


def test_max_batch_splits_each_tick_into_chunks(engine: ComparisonEngine) -> None:
    runs = [make_run(engine, name, 3, StepLog(), images=2) for name in ("euler", "ddim", "heun")]
    runner = LockstepRunner(engine.model.pipe, max_batch=5)
    runner.unet = counting = OomAbove(engine.model.pipe.unet, limit=5)
    report = runner.run(runs)
    # 3 runs x 4 samples = 12 per tick for 3 ticks -> chunks 5, 5, 2; then heun alone (4 samples) twice.
    assert counting.batch_sizes == [5, 5, 2] * 3 + [4, 4]
    assert report.unet_calls == 11 and report.ticks == 5 and report.oom_retries == 0
    unchunked = [make_run(engine, name, 3, StepLog(), images=2) for name in ("euler", "ddim", "heun")]
    LockstepRunner(engine.model.pipe, max_batch=64).run(unchunked)
    for chunked, whole in zip(runs, unchunked, strict=True):
        assert isinstance(chunked.hooks, StepLog) and isinstance(whole.hooks, StepLog)
        assert chunked.hooks.latents is not None and whole.hooks.latents is not None
        scale = max(1.0, float(whole.hooks.latents.abs().max()))
        torch.testing.assert_close(chunked.hooks.latents, whole.hooks.latents, rtol=0, atol=1e-4 * scale)


def test_cuda_oom_in_a_chunk_halves_the_chunk_and_retries_once(engine: ComparisonEngine) -> None:
    runs = [make_run(engine, name, 2, StepLog(), images=2) for name in ("euler", "ddim", "dpmpp_2m")]
    runner = LockstepRunner(engine.model.pipe, max_batch=12)
    runner.unet = oom = OomAbove(engine.model.pipe.unet, limit=8)
    report = runner.run(runs)
    assert oom.batch_sizes == [12, 6, 6, 6, 6]  # the failed chunk of 12, retried as 6 + 6; then 6 + 6
    assert report.oom_retries == 1 and report.chunk_size == 6 and report.max_batch == 12
    assert all(isinstance(run.hooks, StepLog) and run.hooks.finished == "finished" for run in runs)


def test_cuda_oom_after_the_retry_fails_with_the_chunk_size_tried(engine: ComparisonEngine) -> None:
    runner = LockstepRunner(engine.model.pipe, max_batch=8)
    runner.unet = OomAbove(engine.model.pipe.unet, limit=3)
    with pytest.raises(BatchOutOfMemory) as error:
        runner.run([make_run(engine, "euler", 2, StepLog(), images=2) for _ in range(2)])
    assert error.value.chunk_size == 4
    message = describe_failure(error.value)  # what the job's record says
    assert "chunk of 4 samples" in message and "SCHEDLAB_MAX_BATCH" in message and "8" in message


def test_default_max_batch_per_device(monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_max_batch(torch.device("cpu")) == CPU_DEFAULT_MAX_BATCH == 64

    class Properties:
        total_memory = 81_559 * 2**20  # an 80 GB H100 as CUDA reports it

    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device: Properties())
    cuda = torch.device("cuda:0")
    assert default_max_batch(cuda) == 79  # the experiment's 9 x 4 x 2 = 72 samples in one chunk at 512x512
    assert default_max_batch(cuda, 1024 * 1024) == 19 and default_max_batch(cuda, 256 * 256) == 79
