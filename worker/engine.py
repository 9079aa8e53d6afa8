"""The comparison engine: one prompt through many schedulers, frames at chosen steps, measured differences.

Each scheduler runs through the model's own pipeline `__call__` (StableDiffusion, SDXL, SD 3 or Flux; no forked
denoising loop), so its final images are bit-identical to plain diffusers on CPU. Frames come from
`callback_on_step_end`; x0 predictions from a wrapper around the scheduler instance's `step`. What differs between
model families (prompt encoding, packed latents, decoding) is asked of `worker.families`, so this path stays one.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Protocol

import torch
from PIL import Image

import service
from service.contract import (
    ComparisonSpec,
    Decoder,
    FrameKind,
    FrameRef,
    Keys,
    Limits,
    SchedulerResult,
    SchedulerTimings,
    check_spec,
    utcnow,
)
from service.errors import SpecError
from worker import frames as frame_images
from worker import metrics
from worker.demo_model import DEMO_MODEL_ID
from worker.families import PromptEmbeds, predicted_x0
from worker.model import LoadedModel
from worker.registry import BuiltScheduler, build_scheduler, entry_by_id, model_catalog, plain_config

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


def _never() -> bool:
    return False


def put_png(sink: ArtifactSink, key: str, image: Image.Image) -> None:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)  # fast: frames are many, and previews
    sink.put_bytes(key, buffer.getvalue(), "image/png")


# ---------------------------------------------------------------------------------------------------------------
# Scheduler-step bookkeeping


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
    """State of one scheduler's run, filled in by the step callback."""

    index: int
    built: BuiltScheduler
    name: str
    folder: str
    capture: set[int]
    size: tuple[int, int] = (0, 0)  # (height, width) in pixels: Flux's packed latents unpack to it
    unet_calls: int = 0
    frames: dict[int, list[Image.Image]] = field(default_factory=dict)
    x0_at: dict[int, torch.Tensor] = field(default_factory=dict)
    canceled: bool = False


class ComparisonEngine:
    """Runs comparisons on one loaded model; reuse it for every job of the process."""

    def __init__(self, model: LoadedModel, limits: Limits | None = None) -> None:
        self.model = model
        self.limits = limits or Limits()
        # What this model can run, with a reason for what it cannot; workers register it for the API.
        self.catalog = model_catalog(model.family, model.scheduler_config, model.public_info())

    def prepare(self, spec: ComparisonSpec) -> list[BuiltScheduler]:
        """Check the spec and build every scheduler; raises `SpecError` before any model work."""
        if spec.model is not None and spec.model != self.model.name:
            raise SpecError("model", f"this worker serves {self.model.name!r}, not {spec.model!r}")
        check_spec(spec, self.limits, self.catalog)
        catalog = self.catalog
        model_config = self.model.scheduler_config
        built = []
        for index, choice in enumerate(spec.schedulers):
            field_name = f"schedulers[{index}]"
            entry = entry_by_id(catalog.resolve(choice.name, field=f"{field_name}.name").id)
            built.append(build_scheduler(entry, model_config, choice, spec.seed, field_name))
        size, multiple = self.model.default_size, self.model.size_multiple
        for name, pixels in (("height", spec.height or size), ("width", spec.width or size)):
            if pixels % multiple:
                raise SpecError(
                    name, f"must be a multiple of {multiple} for {self.model.name or 'this model'}, got {pixels}"
                )
        return built

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
        if self.model.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.model.device)

        # 1. Check inputs and build fresh scheduler instances
        built = self.prepare(spec)
        height = spec.height or self.model.default_size
        width = spec.width or self.model.default_size
        capture = set(spec.capture_steps())

        # 2. Encode the prompt once for the whole job, the model family's way
        embeds = self.model.family.encode_prompt(self.model.pipe, spec, self.model.device)

        # 3. Run each scheduler through the pipeline, capturing frames as they are made
        results: list[SchedulerResult] = []
        finals: list[list[Image.Image]] = []
        canceled = False
        for index, scheduler in enumerate(built):
            run = _SchedulerRun(
                index,
                scheduler,
                spec.schedulers[index].name,
                Keys.scheduler_dir(index, scheduler.entry.id),
                capture,
                (height, width),
            )
            result, final_images = self._run_scheduler(spec, run, keys, sink, embeds, should_stop, listener)
            results.append(result)
            listener.on_scheduler_done(result)
            if result.status == "canceled":
                canceled = True
                break
            finals.append(final_images)

        # 4. Across schedulers: contact sheet and similarity
        finished = [r for r in results if r.status == "succeeded"]
        if finals:
            rows = [(f"{r.index + 1}. {r.name}", images) for r, images in zip(finished, finals, strict=True)]
            put_png(sink, keys.contact_sheet, frame_images.make_contact_sheet(rows))

        # 5. The manifest: everything needed to reproduce the run
        manifest = self._manifest(spec, results, finals, keys, height, width, started_at, canceled)
        sink.put_bytes(keys.manifest, json.dumps(manifest, indent=2).encode(), "application/json")
        return ComparisonOutcome("canceled" if canceled else "succeeded", results, manifest, keys)

    def _run_scheduler(
        self,
        spec: ComparisonSpec,
        run: _SchedulerRun,
        keys: Keys,
        sink: ArtifactSink,
        embeds: PromptEmbeds,
        should_stop: Callable[[], bool],
        listener: RunListener,
    ) -> tuple[SchedulerResult, list[Image.Image]]:
        pipe = self.model.pipe
        scheduler = run.built.scheduler
        tracker = X0Tracker(scheduler)
        started = time.perf_counter()
        counter: StepCounter | None = None
        # Latent frames at the last step are the final images: decode them once, after the loop, the pipeline's way.
        reuse_final = spec.frames is FrameKind.latent and spec.decoder is Decoder.vae

        def on_step_end(pipeline: Any, call_index: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
            nonlocal counter
            if counter is None:
                counter = StepCounter(len(pipeline.scheduler.timesteps), spec.steps, pipeline.scheduler.order)
            run.unet_calls += 1
            if counter.step_completed(call_index):
                step = counter.completed
                if step in run.capture:
                    assert tracker.latest is not None
                    run.x0_at[step] = tracker.latest.detach().clone()
                    if not (reuse_final and step == spec.steps):
                        latents = tensors["latents"] if spec.frames is FrameKind.latent else tracker.latest
                        self._emit_frames(run, keys, sink, step, latents, spec.decoder)
                listener.on_progress(run.index, run.name, step, spec.steps)
            if should_stop():
                run.canceled = True
                pipeline._interrupt = True
            return {}

        generators = [torch.Generator("cpu").manual_seed(spec.seed + i) for i in range(spec.num_images)]
        pipe.scheduler = scheduler
        height, width = run.size
        latents = pipe(
            **embeds.kwargs,
            **run.built.call_config,
            num_images_per_prompt=embeds.images_per_prompt,
            num_inference_steps=spec.steps,
            guidance_scale=spec.guidance_scale,
            height=height,
            width=width,
            generator=generators,
            output_type="latent",
            callback_on_step_end=on_step_end,
        ).images

        final_keys: list[str] = []
        final_images: list[Image.Image] = []
        if not run.canceled:
            final_images = frame_images.decode_vae(self.model, latents, run.size)
            for image_index, image in enumerate(final_images):
                key = keys.final_image(run.folder, image_index)
                put_png(sink, key, image)
                final_keys.append(key)
            if reuse_final:
                self._store_frames(run, keys, sink, spec.steps, final_images)

        grid_key = None
        if run.frames:
            grid_key = keys.grid(run.folder)
            put_png(sink, grid_key, frame_images.make_grid(sorted(run.frames.items())))

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
            # After the run: set_timesteps may rewrite the config (DPMSolverSinglestep's lower_order_final).
            effective_config=plain_config(scheduler.config),
            seeds=[spec.seed + i for i in range(spec.num_images)],
            final_images=final_keys,
            frames=frame_refs,
            grid=grid_key,
            timings=SchedulerTimings(wall_s=round(time.perf_counter() - started, 4), unet_calls=run.unet_calls),
            convergence=curve,
            emergence_step=None if run.canceled else metrics.emergence_step(curve),
            quality=self._quality(spec, final_images),
        )
        return result, final_images

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
            "resolved": {"height": height, "width": width, "capture_steps": spec.capture_steps()},
            "seeds": {
                "images": [spec.seed + i for i in range(spec.num_images)],
                "rule": "image i of every scheduler: torch.Generator('cpu').manual_seed(seed + i); "
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
                "metric": metrics.SIMILARITY_RULE,
                "schedulers": [r.id if r.name == r.id else r.name for r in results if r.status == "succeeded"],
                "matrix": metrics.similarity_matrix(finals) if finals else [],
            },
            "contact_sheet": keys.contact_sheet if finals else None,
            "peak_memory_bytes": peak,
            "schedulers": [r.model_dump(mode="json") for r in results],
        }
