"""One scheduler run of a job and what the job's runs share.

`JobContext` is what every run of one job shares (spec, model, result writer, listener, stop flag); a
`SchedulerRun` is one scheduler on one cell, or a reference run: it denoises through the family pipeline's own
`__call__` (or gives its lock-step `Run`), records each completed step (frames, x0, progress) and finishes itself
(final images, grid, convergence curve, quality, its `SchedulerResult`). Frames come from `callback_on_step_end`
(or the lock-step runner's hooks); x0 predictions from `X0Tracker`, a wrapper around the scheduler's `step`.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from PIL import Image

from service.contract import (
    Cell,
    ComparisonSpec,
    Decoder,
    FrameKind,
    FrameRef,
    PlannedRun,
    SchedulerResult,
    SchedulerTimings,
)
from worker import frames as frame_images
from worker import scheduler_metrics as metrics
from worker.families import PromptEmbeds, predicted_x0
from worker.lockstep import EncodedPrompt, Run, RunHooks, RunState, StepCounter
from worker.model import LoadedModel
from worker.registry import BuiltScheduler
from worker.result_writer import ResultWriter

logger = logging.getLogger(__name__)


class SamplingDiverged(RuntimeError):
    """A scheduler ended on NaN or infinite latents: the job fails and says which, rather than storing black images."""

    def __init__(self, name: str, class_name: str) -> None:
        super().__init__(f"{name} ({class_name}) ended on non-finite latents (NaN or inf) with this config and model")


class RunListener:
    """Hooks for progress reporting; the defaults do nothing."""

    def on_progress(
        self,
        scheduler_index: int,
        scheduler: str,
        steps_done: int,
        steps_total: int,
        *,
        timestep: float | None = None,
        sigma: float | None = None,
        frames: Sequence[str] = (),
    ) -> None:
        """A scheduler step completed; `frames` are the storage keys of the frames already written for it."""

    def on_scheduler_done(self, result: SchedulerResult) -> None:
        pass


# ---------------------------------------------------------------------------------------------------------------
# Scheduler-step bookkeeping


class X0Tracker:
    """Wraps a scheduler instance's `step` to keep its latest x0 prediction.

    Schedulers that return `pred_original_sample` give it directly; for the others (PNDM, DPM-Solver, DEIS, UniPC)
    it is computed from the model output with the step's own noise level.
    """

    def __init__(self, scheduler: Any) -> None:
        self.scheduler = scheduler
        self.latest: torch.Tensor | None = None
        original_step = scheduler.step

        # The pipeline inspects `step`'s signature to decide whether to pass `generator` and `eta`:
        # the wrapper must show the original's, or stochastic schedulers silently fall back to the global RNG.
        @functools.wraps(original_step)
        def tracked_step(
            model_output: torch.Tensor,
            timestep: Any,
            sample: torch.Tensor,
            *args: Any,
            return_dict: bool = True,
            **kwargs: Any,
        ) -> Any:
            output = original_step(model_output, timestep, sample, *args, return_dict=True, **kwargs)
            x0 = getattr(output, "pred_original_sample", None)
            self.latest = x0 if x0 is not None else self._x0_from_model_output(model_output, timestep, sample)
            return output if return_dict else (output.prev_sample,)

        scheduler.step = tracked_step

    def _x0_from_model_output(self, model_output: torch.Tensor, timestep: Any, sample: torch.Tensor) -> torch.Tensor:
        return predicted_x0(self.scheduler, model_output, timestep, sample)


def _current_sigma(scheduler: Any) -> float | None:
    """The noise level of the sample a scheduler holds after its last step (None for schedulers without sigmas)."""
    sigmas = getattr(scheduler, "sigmas", None)
    index = getattr(scheduler, "step_index", None)
    if sigmas is None or index is None or not 0 <= index < len(sigmas):
        return None
    return float(sigmas[index])


# ---------------------------------------------------------------------------------------------------------------
# One job, its runs


@dataclass
class JobContext:
    """What every run of one job shares: the spec, the model, where files go, who listens, when to stop."""

    spec: ComparisonSpec
    model: LoadedModel
    writer: ResultWriter
    listener: RunListener
    should_stop: Callable[[], bool]

    @property
    def reuse_final(self) -> bool:
        """Latent frames at the last step are the final images: decoded once, after the loop, the pipeline's way."""
        return self.spec.frames is FrameKind.latent and self.spec.decoder is Decoder.vae

    def seeds(self, cell: Cell) -> list[int]:
        return [cell.seed + i for i in range(self.spec.num_images)]

    def generators(self, cell: Cell) -> list[torch.Generator]:
        return [torch.Generator("cpu").manual_seed(seed) for seed in self.seeds(cell)]


@dataclass
class StepTally:
    steps_done: int = 0


@dataclass
class SchedulerRun:
    """One scheduler on one cell (or the reference run of a guidance/seed group), filled in as it runs."""

    job: JobContext
    planned: PlannedRun
    built: BuiltScheduler
    size: tuple[int, int]  # (height, width) in pixels: Flux's packed latents unpack to it
    # Progress counts a scheduler's completed steps over every cell (shared by its runs, which may interleave).
    progress: StepTally
    steps_total: int
    unet_calls: int = 0
    frames: dict[int, list[Image.Image]] = field(default_factory=dict)
    x0_at: dict[int, torch.Tensor] = field(default_factory=dict)
    canceled: bool = False
    denoise_s: float = 0.0  # its sampling time (batched: its share of the ticks) and its frames; finishing adds to it

    def __post_init__(self) -> None:
        self.tracker = X0Tracker(self.built.scheduler)

    @property
    def index(self) -> int:
        return self.planned.scheduler.index

    @property
    def name(self) -> str:
        return self.planned.scheduler.name

    @property
    def cell(self) -> Cell:
        return self.planned.cell

    @property
    def is_reference(self) -> bool:
        return self.planned.is_reference

    def denoise(self, embeds: PromptEmbeds) -> torch.Tensor:
        """The run through the family pipeline's own `__call__`; returns its final latents."""
        pipe = self.job.model.pipe
        started = time.perf_counter()
        counter: StepCounter | None = None

        def on_step_end(pipeline: Any, call_index: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
            nonlocal counter
            if counter is None:
                counter = StepCounter(len(pipeline.scheduler.timesteps), self.cell.steps, pipeline.scheduler.order)
            self.unet_calls += 1
            if counter.step_completed(call_index):
                sigma = _current_sigma(pipeline.scheduler)
                self.step_completed(counter.completed, tensors["latents"], float(timestep), sigma)
            if self.job.should_stop():
                self.canceled = True
                pipeline._interrupt = True
            return {}

        pipe.scheduler = self.built.scheduler
        height, width = self.size
        latents: torch.Tensor = pipe(
            # Encoded with guidance when any cell needs it; a cell at guidance <= 1 runs unguided and the pipeline
            # then ignores the negative embeddings, exactly as a single-value job at that scale.
            **embeds.kwargs,
            **self.built.call_config,
            num_images_per_prompt=embeds.images_per_prompt,
            num_inference_steps=self.cell.steps,
            guidance_scale=self.cell.guidance_scale,
            height=height,
            width=width,
            generator=self.job.generators(self.cell),
            output_type="latent",
            callback_on_step_end=on_step_end,
        ).images
        self.denoise_s = time.perf_counter() - started
        return latents

    def lockstep_run(self, embeds: EncodedPrompt, ended: Callable[[SchedulerRun, torch.Tensor], None]) -> Run:
        """The run as `worker.lockstep` takes it: frames and progress as `denoise` makes them, then `ended`."""
        height, width = self.size
        return Run(
            scheduler=self.built.scheduler,
            steps=self.cell.steps,
            guidance_scale=self.cell.guidance_scale,
            generators=self.job.generators(self.cell),
            embeds=embeds,
            height=height,
            width=width,
            hooks=_LockstepHooks(self, ended),
        )

    def step_completed(self, step: int, latents: torch.Tensor, timestep: float | None, sigma: float | None) -> None:
        """Scheduler step `step` is complete: capture its frames and x0 if asked, report progress."""
        job, written = self.job, []
        if step in self.planned.capture_steps and not self.is_reference:
            assert self.tracker.latest is not None
            self.x0_at[step] = self.tracker.latest.detach().clone()
            if not (job.reuse_final and step == self.cell.steps):
                frame_latents = latents if job.spec.frames is FrameKind.latent else self.tracker.latest
                decode = frame_images.decode_vae if job.spec.decoder is Decoder.vae else frame_images.decode_approx
                written = self._store_frames(step, decode(job.model, frame_latents, self.size))
                job.writer.flush()  # a step event names its frames: they must be readable when it goes out
        # Across a sweep, a scheduler's progress counts its completed steps over every cell (cells may interleave).
        self.progress.steps_done += 1
        job.listener.on_progress(
            self.index,
            self.name,
            self.progress.steps_done,
            self.steps_total or self.cell.steps,
            timestep=timestep,
            sigma=sigma,
            frames=written,
        )

    def finish(self, latents: torch.Tensor) -> EndedRun:
        """Final images, grid, convergence curve and the scheduler's result, once its sampling has ended."""
        job, started = self.job, time.perf_counter()
        folder = self.planned.folder
        final_keys: list[str] = []
        final_images: list[Image.Image] = []
        if not self.canceled:
            if not bool(torch.isfinite(latents).all()):
                raise SamplingDiverged(self.name, self.built.entry.class_name)
            final_images = frame_images.decode_vae(job.model, latents, self.size)
            final_keys = job.writer.final_images(folder, final_images)
            if job.reuse_final:
                self._store_frames(self.cell.steps, final_images)
        grid_key = None
        if self.frames:
            grid_key = job.writer.grid(folder, frame_images.make_grid(sorted(self.frames.items())))
        curve = [(step, round(metrics.relative_distance(x0, latents), 6)) for step, x0 in sorted(self.x0_at.items())]
        frame_refs = [
            FrameRef(step=step, image_index=i, key=job.writer.keys.frame(folder, step, i))
            for step in sorted(self.frames)
            for i in range(len(self.frames[step]))
        ]
        result = SchedulerResult(
            index=self.index,
            name=self.name,
            id=self.built.entry.id,
            class_name=self.built.entry.class_name,
            folder=f"{job.writer.keys.root}{folder}",
            status="canceled" if self.canceled else "succeeded",
            stochastic=self.built.stochastic,
            # After the run: set_timesteps may rewrite the config (DPMSolverSinglestep's lower_order_final).
            effective_config=self.built.config_after_run(),
            seeds=job.seeds(self.cell),
            final_images=final_keys,
            frames=frame_refs,
            grid=grid_key,
            # Its sampling (batched: its share of the ticks) and frames, then this: final images, grid, curve.
            timings=SchedulerTimings(
                wall_s=round(self.denoise_s + time.perf_counter() - started, 4), unet_calls=self.unet_calls
            ),
            convergence=curve,
            emergence_step=None if self.canceled else metrics.emergence_step(curve),
            quality=_quality(job, final_images),
            cell=self.cell.label if job.spec.is_sweep else None,
        )
        return EndedRun(self, result, final_images, None if self.canceled else latents)

    def _store_frames(self, step: int, images: list[Image.Image]) -> list[str]:
        self.frames[step] = images
        return self.job.writer.frames(self.planned.folder, step, images)


def _quality(job: JobContext, final_images: list[Image.Image]) -> dict[str, float] | None:
    """What the model's own scorer (the demo model's checker) sees in the final images, if it has one."""
    if job.model.scorer is None or not final_images:
        return None
    return job.model.scorer(final_images, [job.spec.prompt] * len(final_images))


class _LockstepHooks(RunHooks):
    """One run in a lock-step run: its completed steps, then its end."""

    def __init__(self, run: SchedulerRun, ended: Callable[[SchedulerRun, torch.Tensor], None]) -> None:
        self.run, self.ended = run, ended

    def on_step(self, state: RunState, step: int) -> None:
        timestep = float(state.timesteps[state.call_index])
        self.run.step_completed(step, state.latents, timestep, _current_sigma(state.run.scheduler))

    def on_finish(self, state: RunState) -> None:
        self.run.unet_calls = state.unet_calls
        self.run.canceled = state.status == "canceled"
        self.run.denoise_s = state.seconds
        self.ended(self.run, state.latents)


@dataclass
class EndedRun:
    """A run that has ended: its files are written, its result built."""

    run: SchedulerRun
    result: SchedulerResult
    final_images: list[Image.Image]  # empty when canceled
    latents: torch.Tensor | None  # None when canceled
