"""Lock-step execution: many independent sampling runs advance together, one UNet batch per tick.

A `Run` is one text-to-image sampling run: its own scheduler instance, number of steps, guidance scale, per-image
generators (and optionally its initial latents), prompt embeddings and hooks. The runs of one `LockstepRunner.run`
need not share anything but the UNet: a comparison's schedulers, or a sweep's steps x guidance x seed cells.

Each tick gathers, from every run that still has a timestep to evaluate, the scaled model input (doubled for
classifier-free guidance) and its own timestep, runs the UNet once on the concatenation (`UNet2DConditionModel`
takes one timestep per sample), in chunks of at most `max_batch` samples, splits the output, applies CFG with the
run's own guidance scale and calls the run's own `scheduler.step` with its own generators. Everything but the UNet
batch is exactly what `StableDiffusionPipeline.__call__` does per run, in the same order, so a run alone in a batch
equals the pipeline; runs sharing a batch differ from it only by the UNet's batch-size-dependent rounding.

Quirks, each handled here once:
- Order-2 schedulers (Heun, KDPM2, KDPM2 a, DPMSolverSDE) evaluate the model twice per step and PNDM repeats its
  second timestep: they simply have more timesteps, so they take part in more ticks. `StepCounter` turns UNet calls
  into completed scheduler steps with the pipeline's own rule; hooks only ever see completed steps.
- Stochastic schedulers draw step noise from the run's own per-image generators (passed to `step` exactly as the
  pipeline does), so their noise streams do not depend on what else shares the batch.
- DPMSolverSDE ignores `generator` and draws from its own Brownian tree, seeded by `noise_sampler_seed`; the
  registry always sets that seed, so its noise does not depend on the global RNG or the tick order either.

Memory: a tick's samples are split into chunks of at most `max_batch` (`default_max_batch` per device). A CUDA
out-of-memory error in a chunk halves the chunk size once for the rest of the run and retries that chunk; a
second one raises `BatchOutOfMemory` naming the chunk size tried.

Timing: the runner records each run's share of the batched time: a tick's time (UNet, CFG and scheduler steps) is
split across the runs in it in proportion to their UNet samples; what a run's hooks do (frame decoding) is its own.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from diffusers.utils.torch_utils import randn_tensor

from service.errors import SchedlabError

# Samples (images x 2 with guidance) per UNet call when SCHEDLAB_MAX_BATCH is 0: on CUDA one per GiB of GPU memory
# at 512x512, fewer in proportion to the pixels above that (79 on an 80 GB H100: the nine-variant, four-image
# experiment in one chunk; 15 on a 16 GB T4; 19 on the H100 at 1024x1024); 64 on a CPU, where the models that
# run are small.
CPU_DEFAULT_MAX_BATCH = 64
_REFERENCE_PIXELS = 512 * 512


def default_max_batch(device: torch.device, pixels: int = _REFERENCE_PIXELS) -> int:
    """The chunk size used when none is configured, from the device's memory and the image size."""
    if device.type == "cuda":
        gib = torch.cuda.get_device_properties(device).total_memory / 2**30
        return max(2, int(gib * min(1.0, _REFERENCE_PIXELS / pixels)))
    return CPU_DEFAULT_MAX_BATCH


class BatchOutOfMemory(SchedlabError):
    """A UNet chunk ran out of GPU memory even after halving the chunk size."""

    def __init__(self, chunk_size: int, first_size: int) -> None:
        super().__init__(
            f"the GPU ran out of memory on a batched UNet chunk of {chunk_size} samples (after halving it from "
            f"{first_size}); set SCHEDLAB_MAX_BATCH lower, or run with execution 'sequential', fewer images or a "
            "smaller resolution"
        )
        self.chunk_size = chunk_size


class StepCounter:
    """Counts completed scheduler steps from UNet calls, with the pipeline's own progress-bar rule.

    PNDM (skip_prk_steps) repeats its second timestep and order-2 schedulers (Heun, KDPM2, DPMSolverSDE) call the
    UNet twice per step; a frame labelled step k is the state after k completed steps for all of them.
    """

    def __init__(self, num_timesteps: int, steps: int, order: int) -> None:
        self.num_timesteps = num_timesteps
        self.num_warmup = num_timesteps - steps * order
        self.order = order
        self.completed = 0

    def step_completed(self, call_index: int) -> bool:
        done = call_index == self.num_timesteps - 1 or (
            call_index + 1 > self.num_warmup and (call_index + 1) % self.order == 0
        )
        self.completed += int(done)
        return done


@dataclass
class EncodedPrompt:
    """Encoded prompt, shared by the runs that use it: `(1 or images, tokens, dim)` each; encode once, broadcast."""

    positive: torch.Tensor
    negative: torch.Tensor | None = None  # needed by runs with guidance (an empty prompt's embedding by default)


class RunHooks:
    """What a run's owner hears; every method is optional. Hooks run between ticks, on the runner's thread."""

    def on_step(self, state: RunState, step: int) -> None:
        """Scheduler step `step` (1-based) is complete: `state.latents` holds x_t after it.

        Called after every completed step, never between the two calls of an order-2 step. For the x0 prediction
        wrap the scheduler first with `worker.scheduler_run.X0Tracker`.
        """

    def on_finish(self, state: RunState) -> None:
        """The run ended: `state.status` is "finished" (latents are final) or "canceled"."""

    def should_stop(self) -> bool:
        """Asked once per tick: True cancels this run alone."""
        return False


@dataclass
class Run:
    """One independent sampling run, as `pipe(prompt_embeds=..., generator=generators, ...)` would do it."""

    scheduler: Any  # a fresh diffusers scheduler instance: runs never share one (schedulers hold state)
    steps: int
    guidance_scale: float
    generators: list[torch.Generator]  # one per image: initial noise, then step noise of stochastic schedulers
    embeds: EncodedPrompt
    height: int  # pixels
    width: int
    latents: torch.Tensor | None = None  # initial noise (unscaled, as `pipe(latents=...)`); None: from generators
    eta: float = 0.0  # DDIM's eta, as the pipeline's default
    hooks: RunHooks = field(default_factory=RunHooks)

    @property
    def num_images(self) -> int:
        return len(self.generators)


@dataclass
class RunState:
    """A run in progress; what hooks read."""

    run: Run
    index: int
    timesteps: torch.Tensor
    counter: StepCounter
    latents: torch.Tensor
    do_cfg: bool
    step_kwargs: dict[str, Any]
    encoder_states: torch.Tensor  # (samples, tokens, dim): negative then positive with guidance
    timestep_cond: torch.Tensor | None = None
    call_index: int = 0
    unet_calls: int = 0
    seconds: float = 0.0  # this run's share of the batched time plus its own hook time
    status: Literal["running", "finished", "canceled"] = "running"

    @property
    def samples(self) -> int:
        return self.run.num_images * (2 if self.do_cfg else 1)

    @property
    def steps_done(self) -> int:
        return self.counter.completed


@dataclass
class LockstepReport:
    """How a lock-step run went: for the manifest."""

    max_batch: int  # the configured chunk size
    chunk_size: int  # the chunk size at the end (half of max_batch after an out-of-memory retry)
    oom_retries: int
    ticks: int
    unet_calls: int  # UNet forward passes, chunks counted separately
    batch_sizes: dict[int, int]  # tick batch size (samples) -> how many ticks had it
    states: list[RunState]
    tick_runs: list[list[int]] = field(default_factory=list)  # per tick: the indices of the runs in its batch

    def describe(self) -> dict[str, Any]:
        return {
            "max_batch": self.max_batch,
            "chunk_size": self.chunk_size,
            "oom_retries": self.oom_retries,
            "ticks": self.ticks,
            "unet_forward_passes": self.unet_calls,
            "tick_batch_sizes": {str(size): count for size, count in sorted(self.batch_sizes.items())},
        }


def _never() -> bool:
    return False


class LockstepRunner:
    """Runs many `Run`s through one pipeline's UNet, one batch per tick.

    `pipe` is a `StableDiffusionPipeline` (its UNet, VAE scale factor and guidance-embedding helper are used; its
    own scheduler is never touched). `max_batch` caps the samples per UNet call (0: `default_max_batch` for the
    device and the largest run's image size).
    """

    def __init__(self, pipe: Any, max_batch: int = 0) -> None:
        self.pipe = pipe
        self.unet = pipe.unet
        self.device: torch.device = pipe._execution_device
        self.max_batch = max_batch

    @torch.no_grad()
    def run(self, runs: Sequence[Run], should_stop: Callable[[], bool] = _never) -> LockstepReport:
        pixels = max((run.height * run.width for run in runs), default=_REFERENCE_PIXELS)
        max_batch = self.max_batch or default_max_batch(self.device, pixels)
        states = [self._prepare(index, run) for index, run in enumerate(runs)]
        report = LockstepReport(max_batch, max_batch, 0, 0, 0, {}, states)
        active = [state for state in states if state.status == "running"]
        while active:
            tick_started = time.perf_counter()
            # 1. Gather every active run's model input and timestep
            inputs, timesteps, encoder_states, conds = [], [], [], []
            for state in active:
                t = state.timesteps[state.call_index]
                model_input = torch.cat([state.latents] * 2) if state.do_cfg else state.latents
                inputs.append(state.run.scheduler.scale_model_input(model_input, t))
                timesteps.append(t.to(torch.float32).expand(state.samples))
                encoder_states.append(state.encoder_states)
                if state.timestep_cond is not None:
                    conds.append(state.timestep_cond)
            batch = torch.cat(inputs) if len(inputs) > 1 else inputs[0]
            timestep_cond = torch.cat(conds) if conds else None
            # 2. One UNet batch (in chunks), split per run
            noise = self._unet(
                batch, torch.cat(timesteps).to(batch.device), torch.cat(encoder_states), timestep_cond, report
            )
            report.ticks += 1
            report.batch_sizes[batch.shape[0]] = report.batch_sizes.get(batch.shape[0], 0) + 1
            report.tick_runs.append([state.index for state in active])
            # 3. Guidance and each run's own scheduler step
            offset = 0
            for state in active:
                prediction = noise[offset : offset + state.samples]
                offset += state.samples
                if state.do_cfg:
                    uncond, text = prediction.chunk(2)
                    prediction = uncond + state.run.guidance_scale * (text - uncond)
                t = state.timesteps[state.call_index]
                state.latents = state.run.scheduler.step(
                    prediction, t, state.latents, **state.step_kwargs, return_dict=False
                )[0]
                state.unet_calls += 1
            tick_seconds = time.perf_counter() - tick_started
            total_samples = batch.shape[0]
            # 4. Hooks: completed steps, the end of a run, cancellation
            stop_all = should_stop()
            for state in active:
                state.seconds += tick_seconds * state.samples / total_samples
                hook_started = time.perf_counter()
                if state.counter.step_completed(state.call_index):
                    state.run.hooks.on_step(state, state.counter.completed)
                state.call_index += 1
                if state.call_index == len(state.timesteps):
                    state.status = "finished"
                elif stop_all or state.run.hooks.should_stop():
                    state.status = "canceled"
                state.seconds += time.perf_counter() - hook_started
                if state.status != "running":
                    # Its own time is the hook's to count: it builds the result that carries the time.
                    state.run.hooks.on_finish(state)
            active = [state for state in active if state.status == "running"]
        return report

    def _prepare(self, index: int, run: Run) -> RunState:
        """What `StableDiffusionPipeline.__call__` does before its denoising loop, for one run."""
        pipe, scheduler = self.pipe, run.scheduler
        # No guidance embedding UNet (LCM-style): classifier-free guidance doubles the batch, as in the pipeline.
        guidance_embedding = pipe.unet.config.time_cond_proj_dim is not None
        do_cfg = run.guidance_scale > 1 and not guidance_embedding
        images = run.num_images
        scheduler.set_timesteps(run.steps, device=self.device)
        timesteps = scheduler.timesteps
        embeds = run.embeds
        positive = embeds.positive.expand(images, -1, -1) if embeds.positive.shape[0] == 1 else embeds.positive
        encoder_states = positive
        if do_cfg:
            if embeds.negative is None:
                raise ValueError("a run with guidance_scale > 1 needs negative prompt embeddings")
            negative = embeds.negative
            negative = negative.expand(images, -1, -1) if negative.shape[0] == 1 else negative
            encoder_states = torch.cat([negative, positive])
        dtype = positive.dtype
        shape = (
            images,
            pipe.unet.config.in_channels,
            run.height // pipe.vae_scale_factor,
            run.width // pipe.vae_scale_factor,
        )
        if run.latents is None:
            latents = randn_tensor(shape, generator=run.generators, device=self.device, dtype=dtype)
        else:
            latents = run.latents.to(self.device)
        latents = latents * scheduler.init_noise_sigma
        # The pipeline passes `generator` and `eta` only to a `step` that takes them (prepare_extra_step_kwargs).
        parameters = inspect.signature(scheduler.step).parameters
        step_kwargs: dict[str, Any] = {}
        if "eta" in parameters:
            step_kwargs["eta"] = run.eta
        if "generator" in parameters:
            step_kwargs["generator"] = run.generators
        timestep_cond = None
        if guidance_embedding:
            scale = torch.tensor(run.guidance_scale - 1).repeat(images)
            timestep_cond = pipe.get_guidance_scale_embedding(
                scale, embedding_dim=pipe.unet.config.time_cond_proj_dim
            ).to(device=self.device, dtype=latents.dtype)
        state = RunState(
            run,
            index,
            timesteps,
            StepCounter(len(timesteps), run.steps, scheduler.order),
            latents,
            do_cfg,
            step_kwargs,
            encoder_states,
            timestep_cond,
        )
        if len(timesteps) == 0:
            state.status = "finished"
            run.hooks.on_finish(state)
        return state

    def _unet(
        self,
        batch: torch.Tensor,
        timesteps: torch.Tensor,
        encoder_states: torch.Tensor,
        timestep_cond: torch.Tensor | None,
        report: LockstepReport,
    ) -> torch.Tensor:
        """The UNet on `batch` in chunks of at most `report.chunk_size`; one halving retry on CUDA OOM."""
        outputs = []
        start = 0
        while start < batch.shape[0]:
            size = report.chunk_size
            end = start + size
            try:
                output = self.unet(
                    batch[start:end],
                    timesteps[start:end],
                    encoder_hidden_states=encoder_states[start:end],
                    timestep_cond=None if timestep_cond is None else timestep_cond[start:end],
                    return_dict=False,
                )[0]
            except torch.cuda.OutOfMemoryError:
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                if report.oom_retries or size == 1:
                    raise BatchOutOfMemory(min(size, batch.shape[0] - start), report.max_batch) from None
                report.oom_retries += 1
                report.chunk_size = max(1, size // 2)
                continue
            report.unet_calls += 1
            outputs.append(output)
            start = end
        return outputs[0] if len(outputs) == 1 else torch.cat(outputs)
