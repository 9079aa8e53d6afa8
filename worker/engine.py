"""The comparison engine: one prompt through many schedulers, frames at chosen steps, measured differences.

Each scheduler runs through the model's own pipeline `__call__` (StableDiffusion, SDXL, SD 3 or Flux; no forked
denoising loop), so its final images are bit-identical to plain diffusers on CPU. Frames come from
`callback_on_step_end`; x0 predictions from a wrapper around the scheduler instance's `step`. What differs between
model families (prompt encoding, packed latents, decoding) is asked of `worker.families`, so this path stays one.
"""

from __future__ import annotations

import functools
import json
import logging
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Protocol

import torch
from PIL import Image

import service
from service.contract import (
    Cell,
    ComparisonSpec,
    Decoder,
    FrameKind,
    FrameRef,
    Keys,
    Limits,
    Reference,
    ReferenceDistance,
    SchedulerChoice,
    SchedulerResult,
    SchedulerTimings,
    SweepAnswer,
    check_spec,
    progress_plan,
    utcnow,
)
from service.errors import SpecError
from worker import frames as frame_images
from worker import metrics, sweep
from worker.demo_model import DEMO_MODEL_ID
from worker.families import PromptEmbeds, predicted_x0
from worker.model import LoadedModel
from worker.registry import BuiltScheduler, build_scheduler, entry_by_id, model_catalog

logger = logging.getLogger(__name__)


class ArtifactSink(Protocol):
    """Where the engine writes its files, as they are made (a local folder, object storage)."""

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None: ...


class RunListener:
    """Hooks for progress reporting; the defaults do nothing."""

    def on_progress(self, scheduler_index: int, scheduler: str, steps_done: int, steps_total: int) -> None:
        pass

    def on_scheduler_done(self, result: SchedulerResult) -> None:
        pass


@dataclass
class ComparisonOutcome:
    status: str  # "succeeded" or "canceled"
    results: list[SchedulerResult]
    manifest: dict[str, Any]
    keys: Keys
    sweep: SweepAnswer | None = None
    unet_evaluations: int = 0  # image x UNet evaluations actually run, the reference's included
    wall_s: float = 0.0


def _never() -> bool:
    return False


def put_png(sink: ArtifactSink, key: str, image: Image.Image) -> None:
    sink.put_bytes(key, frame_images.png_bytes(image), "image/png")


# ---------------------------------------------------------------------------------------------------------------
# Scheduler-step bookkeeping


class StepCounter:
    """Counts completed scheduler steps from UNet calls, with the pipeline's own progress-bar rule.

    PNDM (skip_prk_steps) repeats its first timestep and order-2 schedulers (Heun, KDPM2, DPMSolverSDE) call the
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


# ---------------------------------------------------------------------------------------------------------------
# The engine


@dataclass
class _SchedulerRun:
    """One scheduler on one cell (or the reference run of a guidance/seed group), filled in as it runs."""

    index: int  # the scheduler's place in the spec; the reference's is len(spec.schedulers)
    built: BuiltScheduler
    name: str
    folder: str
    capture: set[int]
    cell: Cell
    size: tuple[int, int] = (0, 0)  # (height, width) in pixels: Flux's packed latents unpack to it
    is_reference: bool = False
    steps_before: int = 0  # this scheduler's steps in earlier cells: progress counts across the sweep
    steps_total: int = 0
    unet_calls: int = 0
    frames: dict[int, list[Image.Image]] = field(default_factory=dict)
    x0_at: dict[int, torch.Tensor] = field(default_factory=dict)
    canceled: bool = False
    started: float = 0.0


@dataclass
class _Group:
    """The runs sharing one guidance scale and seed: their reference, then every cell x scheduler."""

    guidance_scale: float
    seed: int
    runs: list[_SchedulerRun]
    reference_latents: torch.Tensor | None = None
    reference_images: list[Image.Image] = field(default_factory=list)
    reference_record: dict[str, Any] | None = None


@dataclass
class _Finished:
    """What the sweep's answer needs from one finished cell run."""

    result: SchedulerResult
    first_image: Image.Image | None


class ComparisonEngine:
    """Runs comparisons on one loaded model; reuse it for every job of the process."""

    def __init__(self, model: LoadedModel, limits: Limits | None = None) -> None:
        self.model = model
        self.limits = limits or Limits()
        # What this model can run, with a reason for what it cannot; workers register it for the API.
        self.catalog = model_catalog(model.family, model.scheduler_config, model.public_info())

    def prepare(self, spec: ComparisonSpec) -> list[BuiltScheduler]:
        """Check the spec and build every scheduler once; raises `SpecError` before any model work."""
        if spec.model is not None and spec.model != self.model.name:
            raise SpecError("model", f"this worker serves {self.model.name!r}, not {spec.model!r}")
        check_spec(spec, self.limits, self.catalog)
        built = [self._build(spec, index, choice, spec.seed_values[0]) for index, choice in enumerate(spec.schedulers)]
        reference = spec.resolved_reference()
        if reference is not None:
            self._build_reference(reference, spec.seed_values[0])
        size, multiple = self.model.default_size, self.model.size_multiple
        for name, pixels in (("height", spec.height or size), ("width", spec.width or size)):
            if pixels % multiple:
                raise SpecError(
                    name, f"must be a multiple of {multiple} for {self.model.name or 'this model'}, got {pixels}"
                )
        return built

    def _build(self, spec: ComparisonSpec, index: int, choice: SchedulerChoice, seed: int) -> BuiltScheduler:
        field_name = f"schedulers[{index}]"
        entry = entry_by_id(self.catalog.resolve(choice.name, field=f"{field_name}.name").id)
        return build_scheduler(entry, self.model.scheduler_config, choice, seed, field_name)

    def _build_reference(self, reference: Reference, seed: int) -> BuiltScheduler:
        entry = entry_by_id(self.catalog.resolve(reference.scheduler, field="reference.scheduler").id)
        choice = SchedulerChoice(name=reference.scheduler)
        return build_scheduler(entry, self.model.scheduler_config, choice, seed, "reference")

    def plan(self, spec: ComparisonSpec) -> list[_Group]:
        """Every run of the job, grouped by (guidance, seed): the reference first, then cells x schedulers.

        Each run gets a fresh scheduler instance (they hold state), seeded for its cell (DPMSolverSDE's tree).
        """
        reference = spec.resolved_reference()
        size = (spec.height or self.model.default_size, spec.width or self.model.default_size)
        groups: dict[tuple[float, int], _Group] = {}
        steps_done = [0] * len(spec.schedulers)
        reference_done = 0
        totals = {p.scheduler_index: p.steps_total for p in progress_plan(spec)}
        for cell in spec.cells():
            key = (cell.guidance_scale, cell.seed)
            if key not in groups:
                groups[key] = group = _Group(cell.guidance_scale, cell.seed, [])
                if reference is not None:
                    ref_cell = Cell(-1, reference.steps, cell.guidance_scale, cell.seed, sweep=False)
                    ref_index = len(spec.schedulers)
                    group.runs.append(
                        _SchedulerRun(
                            ref_index,
                            self._build_reference(reference, cell.seed),
                            f"reference: {reference.scheduler}",
                            f"reference/{Keys.group_name(cell.guidance_scale, cell.seed)}",
                            {reference.steps},
                            ref_cell,
                            size=size,
                            is_reference=True,
                            steps_before=reference_done,
                            steps_total=totals[ref_index],
                        )
                    )
                    reference_done += reference.steps
            for index, choice in enumerate(spec.schedulers):
                built = self._build(spec, index, choice, cell.seed)
                groups[key].runs.append(
                    _SchedulerRun(
                        index,
                        built,
                        choice.name,
                        cell.folder + Keys.scheduler_dir(index, built.entry.id),
                        set(spec.capture_steps(cell.steps)),
                        cell,
                        size=size,
                        steps_before=steps_done[index],
                        steps_total=totals[index],
                    )
                )
                steps_done[index] += cell.steps
        return list(groups.values())

    @torch.no_grad()
    def run(
        self,
        spec: ComparisonSpec,
        sink: ArtifactSink,
        keys: Keys,
        should_stop: Callable[[], bool] = _never,
        listener: RunListener | None = None,
    ) -> ComparisonOutcome:
        listener = listener or RunListener()
        started_at = utcnow()
        clock = time.perf_counter()
        if self.model.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.model.device)

        # 1. Check inputs; plan every run (cells x schedulers, and the references) with fresh scheduler instances
        self.prepare(spec)
        height = spec.height or self.model.default_size
        width = spec.width or self.model.default_size
        groups = self.plan(spec)

        # 2. Encode the prompt once for the whole job, the model family's way: every cell and scheduler shares it
        embeds = self.model.family.encode_prompt(self.model.pipe, spec, self.model.device)

        # 3. Run each group: its reference first, then every cell x scheduler, frames stored as they are made
        results: list[SchedulerResult] = []
        finished: list[_Finished] = []
        finals: list[list[Image.Image]] = []
        references: list[dict[str, Any]] = []
        canceled = False
        evaluations = 0
        for group in groups:
            has_reference = any(run.is_reference for run in group.runs)
            waiting: list[tuple[_SchedulerRun, torch.Tensor]] = []  # cells that ended before their reference
            for run, latents in self._execute(spec, group.runs, keys, sink, embeds, should_stop, listener):
                evaluations += run.unet_calls * spec.num_images
                if run.is_reference and run.canceled:
                    canceled = True
                    break
                if run.is_reference:
                    self._finish_reference(spec, group, run, latents, keys, sink)
                    if group.reference_record is not None:
                        references.append(group.reference_record)
                    ready, waiting = waiting, []
                elif has_reference and group.reference_latents is None and not run.canceled:
                    waiting.append((run, latents))  # a batched runner may end short cells first
                    continue
                else:
                    ready = [(run, latents)]
                for done, done_latents in ready:
                    result, final_images = self._finish_run(spec, done, done_latents, keys, sink, group)
                    results.append(result)
                    listener.on_scheduler_done(result)
                    if result.status == "canceled":
                        canceled = True
                        break
                    finals.append(final_images)
                    finished.append(_Finished(result, final_images[0] if final_images else None))
                if canceled:
                    break
            if canceled:
                break

        # 4. Across runs: the contact sheet and similarity (plain jobs); grids, curves and ranking (sweeps)
        succeeded = [r for r in results if r.status == "succeeded"]
        contact_sheet = None
        if finals and not spec.is_sweep:
            rows = [(f"{r.index + 1}. {r.name}", images) for r, images in zip(succeeded, finals, strict=True)]
            put_png(sink, keys.contact_sheet, frame_images.make_contact_sheet(rows))
            contact_sheet = keys.contact_sheet
        answer = None
        if spec.is_sweep and not canceled and finished:
            answer = sweep.answer(
                spec, [(f.result, f.first_image) for f in finished], keys, sink, self.limits.grid_max_pixels
            )

        # 5. The manifest: everything needed to reproduce the run
        manifest = self._manifest(
            spec, results, [] if spec.is_sweep else finals, keys, height, width, started_at, canceled
        )
        manifest["contact_sheet"] = contact_sheet
        manifest["reference"] = self._reference_manifest(spec, references)
        manifest["sweep"] = answer.model_dump(mode="json") if answer is not None else None
        sink.put_bytes(keys.manifest, json.dumps(manifest, indent=2).encode(), "application/json")
        return ComparisonOutcome(
            "canceled" if canceled else "succeeded",
            results,
            manifest,
            keys,
            sweep=answer,
            unet_evaluations=evaluations,
            wall_s=time.perf_counter() - clock,
        )

    def _execute(
        self,
        spec: ComparisonSpec,
        runs: list[_SchedulerRun],
        keys: Keys,
        sink: ArtifactSink,
        embeds: PromptEmbeds,
        should_stop: Callable[[], bool],
        listener: RunListener,
    ) -> Iterator[tuple[_SchedulerRun, torch.Tensor]]:
        """Denoise `runs` and yield each with its final latents as it ends.

        Today one run after another through the model's own pipeline; a batched runner that advances every run
        of the list in shared UNet batches takes this function's place without changing its callers.
        """
        for run in runs:
            latents = self._denoise(spec, run, keys, sink, embeds, should_stop, listener)
            yield run, latents
            if run.canceled:
                return

    def _denoise(
        self,
        spec: ComparisonSpec,
        run: _SchedulerRun,
        keys: Keys,
        sink: ArtifactSink,
        embeds: PromptEmbeds,
        should_stop: Callable[[], bool],
        listener: RunListener,
    ) -> torch.Tensor:
        pipe = self.model.pipe
        scheduler = run.built.scheduler
        tracker = X0Tracker(scheduler)
        run.started = time.perf_counter()
        counter: StepCounter | None = None
        steps = run.cell.steps
        # Latent frames at the last step are the final images: decode them once, after the loop, the pipeline's way.
        reuse_final = spec.frames is FrameKind.latent and spec.decoder is Decoder.vae

        def on_step_end(pipeline: Any, call_index: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
            nonlocal counter
            if counter is None:
                counter = StepCounter(len(pipeline.scheduler.timesteps), steps, pipeline.scheduler.order)
            run.unet_calls += 1
            if counter.step_completed(call_index):
                step = counter.completed
                if step in run.capture and not run.is_reference:
                    assert tracker.latest is not None
                    run.x0_at[step] = tracker.latest.detach().clone()
                    if not (reuse_final and step == steps):
                        latents = tensors["latents"] if spec.frames is FrameKind.latent else tracker.latest
                        self._emit_frames(run, keys, sink, step, latents, spec.decoder)
                listener.on_progress(run.index, run.name, run.steps_before + step, run.steps_total)
            if should_stop():
                run.canceled = True
                pipeline._interrupt = True
            return {}

        guidance = run.cell.guidance_scale
        generators = [torch.Generator("cpu").manual_seed(run.cell.seed + i) for i in range(spec.num_images)]
        pipe.scheduler = scheduler
        height, width = run.size
        latents: torch.Tensor = pipe(
            # Encoded with guidance when any cell needs it; a cell at guidance <= 1 runs unguided and the pipeline
            # then ignores the negative embeddings, exactly as a single-value job at that scale.
            **embeds.kwargs,
            **run.built.call_config,
            num_images_per_prompt=embeds.images_per_prompt,
            num_inference_steps=steps,
            guidance_scale=guidance,
            height=height,
            width=width,
            generator=generators,
            output_type="latent",
            callback_on_step_end=on_step_end,
        ).images
        return latents

    def _finish_reference(
        self,
        spec: ComparisonSpec,
        group: _Group,
        run: _SchedulerRun,
        latents: torch.Tensor,
        keys: Keys,
        sink: ArtifactSink,
    ) -> None:
        if run.canceled:
            return
        images = frame_images.decode_vae(self.model, latents, run.size)
        image_keys = []
        for image_index, image in enumerate(images):
            key = keys.reference_image(group.guidance_scale, group.seed, image_index)
            put_png(sink, key, image)
            image_keys.append(key)
        group.reference_latents, group.reference_images = latents, images
        group.reference_record = {
            "guidance_scale": group.guidance_scale,
            "seed": group.seed,
            "final_images": image_keys,
            "unet_calls": run.unet_calls,
            "wall_s": round(time.perf_counter() - run.started, 4),
        }

    def _finish_run(
        self,
        spec: ComparisonSpec,
        run: _SchedulerRun,
        latents: torch.Tensor,
        keys: Keys,
        sink: ArtifactSink,
        group: _Group,
    ) -> tuple[SchedulerResult, list[Image.Image]]:
        steps = run.cell.steps
        reuse_final = spec.frames is FrameKind.latent and spec.decoder is Decoder.vae
        final_keys: list[str] = []
        final_images: list[Image.Image] = []
        if not run.canceled:
            final_images = frame_images.decode_vae(self.model, latents, run.size)
            for image_index, image in enumerate(final_images):
                key = keys.final_image(run.folder, image_index)
                put_png(sink, key, image)
                final_keys.append(key)
            if reuse_final:
                self._store_frames(run, keys, sink, steps, final_images)

        grid_key = None
        if run.frames:
            grid_key = keys.grid(run.folder)
            put_png(sink, grid_key, frame_images.make_grid(sorted(run.frames.items())))

        distance = None
        if not run.canceled and group.reference_latents is not None:
            per_image = metrics.pixel_rmse(final_images, group.reference_images)
            per_latent = metrics.relative_distances(latents, group.reference_latents)
            distance = ReferenceDistance(
                latent=round(statistics.median(per_latent), 6),
                image=round(statistics.median(per_image), 6),
                image_mean=round(statistics.fmean(per_image), 6),
                images=[round(v, 6) for v in per_image],
                latents=[round(v, 6) for v in per_latent],
            )
        curve = [(step, round(metrics.relative_distance(x0, latents), 6)) for step, x0 in sorted(run.x0_at.items())]
        frame_refs = [
            FrameRef(step=step, image_index=i, key=keys.frame(run.folder, step, i))
            for step in sorted(run.frames)
            for i in range(len(run.frames[step]))
        ]
        result = SchedulerResult(
            index=run.index,
            name=run.name,
            id=run.built.entry.id,
            class_name=run.built.entry.class_name,
            key=f"{keys.root}{run.folder}",
            status="canceled" if run.canceled else "succeeded",
            stochastic=run.built.stochastic,
            effective_config=run.built.effective_config,
            seeds=[run.cell.seed + i for i in range(spec.num_images)],
            final_images=final_keys,
            frames=frame_refs,
            grid=grid_key,
            timings=SchedulerTimings(wall_s=round(time.perf_counter() - run.started, 4), unet_calls=run.unet_calls),
            convergence=curve,
            emergence_step=None if run.canceled else metrics.emergence_step(curve),
            quality=self._quality(spec, final_images),
            cell=run.cell.label if spec.is_sweep else None,
            reference_distance=distance,
        )
        return result, final_images

    @staticmethod
    def _reference_manifest(spec: ComparisonSpec, runs: list[dict[str, Any]]) -> dict[str, Any] | None:
        reference = spec.resolved_reference()
        if reference is None:
            return None
        return {
            **reference.model_dump(mode="json"),
            "default": spec.reference is None,
            "why": "a deterministic high-order solver at many steps approximates the probability-flow ODE's "
            "solution from each seed's noise; every cell's final latent and image are measured against it",
            "runs": runs,
        }

    def _quality(self, spec: ComparisonSpec, final_images: list[Image.Image]) -> dict[str, float] | None:
        """On the demo model, what the checker sees: does each final image show the prompt's colour and shape?"""
        if self.model.model_id != DEMO_MODEL_ID or not final_images:
            return None
        from worker.demo_model import checker

        return checker.score(final_images, [spec.prompt] * len(final_images))

    def _emit_frames(
        self,
        run: _SchedulerRun,
        keys: Keys,
        sink: ArtifactSink,
        step: int,
        latents: torch.Tensor,
        decoder: Decoder,
    ) -> None:
        decode = frame_images.decode_vae if decoder is Decoder.vae else frame_images.decode_approx
        self._store_frames(run, keys, sink, step, decode(self.model, latents, run.size))

    @staticmethod
    def _store_frames(run: _SchedulerRun, keys: Keys, sink: ArtifactSink, step: int, images: list[Image.Image]) -> None:
        run.frames[step] = images
        for image_index, image in enumerate(images):
            put_png(sink, keys.frame(run.folder, step, image_index), image)

    def _manifest(
        self,
        spec: ComparisonSpec,
        results: list[SchedulerResult],
        finals: list[list[Image.Image]],
        keys: Keys,
        height: int,
        width: int,
        started_at: Any,
        canceled: bool,
    ) -> dict[str, Any]:
        model = self.model
        peak = torch.cuda.max_memory_allocated(model.device) if model.device.type == "cuda" else None
        return {
            "schedlab_version": service.__version__,
            "status": "canceled" if canceled else "succeeded",
            "started_at": started_at.isoformat(),
            "finished_at": utcnow().isoformat(),
            "spec": spec.model_dump(mode="json", exclude={"webhook"}),
            "resolved": {
                "height": height,
                "width": width,
                "capture_steps": spec.capture_steps(),
                "cells": len(spec.cells()),
            },
            "seeds": {
                "images": [seed + i for seed in spec.seed_values for i in range(spec.num_images)],
                "rule": "image i of every scheduler (and cell): torch.Generator('cpu').manual_seed(seed + i); "
                "DPMSolverSDE: noise_sampler_seed = seed unless configured",
            },
            "model": model.describe(),
            "approx_projection": {
                "matrix": model.approx.matrix,
                "bias": model.approx.bias,
                "source": model.approx.source,
            },
            "versions": {
                "python": platform.python_version(),
                "torch": torch.__version__,
                "diffusers": metadata.version("diffusers"),
                "transformers": metadata.version("transformers"),
            },
            "convergence": {
                "distance": "mean over images of ||x0_pred(step) - final_latent|| / ||final_latent||",
                "emergence_threshold": metrics.EMERGENCE_THRESHOLD,
            },
            "similarity": {
                "metric": "psnr_db (identical = 100), final images pairwise, averaged over image index",
                "schedulers": [r.id if r.name == r.id else r.name for r in results if r.status == "succeeded"],
                "matrix": metrics.similarity_matrix(finals) if finals else [],
            },
            "peak_memory_bytes": peak,
            "schedulers": [r.model_dump(mode="json") for r in results],
        }
