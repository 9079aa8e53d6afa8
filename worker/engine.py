"""The comparison engine: one prompt through many schedulers, frames at chosen steps, measured differences.

It owns a job's run from a checked plan to its outcome: `ComparisonEngine` checks the spec into a plan (the
model's `SchedulerRegistry`), gives each planned run a fresh scheduler as a `SchedulerRun` sharing the job's
`JobContext` (`worker.scheduler_run`), samples them, gathers them as they end (each sweep cell measured against
its group's reference) and ends with the results, the contact sheet or the sweep's answer, the charts and the
typed manifest (`worker.manifest`). Every file goes through the job's `ResultWriter` (`worker.result_writer`).

Each scheduler runs through the model's own pipeline `__call__` (StableDiffusion, SDXL, SD 3 or Flux; no forked
denoising loop), so its final images are bit-identical to plain diffusers on CPU, or in lock-step with the others
(`worker.lockstep`). What differs between model families (prompt encoding, packed latents,
decoding) is asked of `worker.families`, so this path stays one.
"""

from __future__ import annotations

import functools
import logging
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from PIL import Image

from service.contract import (
    ComparisonSpec,
    Execution,
    JobPlan,
    JobStatus,
    Limits,
    ReferenceDistance,
    SchedulerResult,
    StorageLayout,
    SweepAnswer,
    progress_plan,
    utcnow,
)
from service.errors import SpecError
from service.storage import Storage
from worker import charts as charts_png
from worker import frames as frame_images
from worker import scheduler_metrics as metrics
from worker import sweep
from worker.families import PromptEmbeds
from worker.lockstep import EncodedPrompt, LockstepReport, LockstepRunner
from worker.manifest import (
    ApproxProjectionRecord,
    Manifest,
    ReferenceRecord,
    ReferenceRun,
    ResolvedSize,
    SeedRule,
    Similarity,
    Versions,
)
from worker.model import LoadedModel
from worker.registry import BuiltScheduler, SchedulerRegistry
from worker.result_writer import ResultWriter
from worker.scheduler_run import EndedRun, JobContext, RunListener, SchedulerRun, StepTally

logger = logging.getLogger(__name__)


@dataclass
class ComparisonOutcome:
    """What a comparison made: its status (succeeded or canceled), results in plan order, and its manifest."""

    status: JobStatus
    results: list[SchedulerResult]
    manifest: Manifest
    keys: StorageLayout
    # Each finished scheduler's final latents, in result order (what the exactness tests and benchmarks compare).
    final_latents: list[torch.Tensor] = field(default_factory=list)
    sweep: SweepAnswer | None = None
    unet_evaluations: int = 0  # image x UNet evaluations actually run, the reference's included
    wall_s: float = 0.0


def _never() -> bool:
    return False


# ---------------------------------------------------------------------------------------------------------------
# The runs of a job, as they end


@dataclass
class _Group:
    """The runs sharing one guidance scale and seed: their reference, then every cell x scheduler."""

    guidance_scale: float
    seed: int
    runs: list[SchedulerRun]
    reference_latents: torch.Tensor | None = None
    reference_images: list[Image.Image] = field(default_factory=list)
    reference_record: ReferenceRun | None = None
    # Cells that ended before their reference (in lock-step, short cells end first): announced once it has.
    waiting: list[EndedRun] = field(default_factory=list)

    @property
    def has_reference(self) -> bool:
        return any(run.is_reference for run in self.runs)

    def reference_ended(self, run: SchedulerRun, latents: torch.Tensor) -> None:
        started = time.perf_counter()
        images = frame_images.decode_vae(run.job.model, latents, run.size)
        image_keys = run.job.writer.reference_images(self.guidance_scale, self.seed, images)
        self.reference_latents, self.reference_images = latents, images
        self.reference_record = ReferenceRun(
            guidance_scale=self.guidance_scale,
            seed=self.seed,
            final_images=image_keys,
            unet_calls=run.unet_calls,
            wall_s=round(run.denoise_s + time.perf_counter() - started, 4),
        )

    def distance(self, final_images: list[Image.Image], latents: torch.Tensor) -> ReferenceDistance:
        """A cell's finals against the group's reference: relative latent distance and pixel RMSE, per image."""
        assert self.reference_latents is not None
        per_image = metrics.pixel_rmse(final_images, self.reference_images)
        per_latent = metrics.relative_distances(latents, self.reference_latents)
        return ReferenceDistance(
            latent=round(statistics.median(per_latent), 6),
            image=round(statistics.median(per_image), 6),
            image_mean=round(statistics.fmean(per_image), 6),
            images=[round(v, 6) for v in per_image],
            latents=[round(v, 6) for v in per_latent],
        )


class _EndedRuns:
    """Runs as they end, in whatever order. Each ends like a single-value job's run (final images, grid, result);
    a sweep cell's result then gets its distance to the group's reference (waiting for the reference if it ended
    first) and is announced."""

    def __init__(self, job: JobContext) -> None:
        self.job = job
        self.ended: list[EndedRun] = []
        self.references: list[ReferenceRun] = []
        self.canceled = False
        self.evaluations = 0  # image x UNet evaluations run, the references' included

    def run_ended(self, group: _Group, run: SchedulerRun, latents: torch.Tensor) -> None:
        self.evaluations += run.unet_calls * self.job.spec.num_images
        if run.is_reference:
            if run.canceled:
                self.canceled = True
                return
            group.reference_ended(run, latents)
            assert group.reference_record is not None
            self.references.append(group.reference_record)
            waiting, group.waiting = group.waiting, []
            for ended in waiting:
                self._announce(group, ended)
            return
        ended = run.finish(latents)
        if group.has_reference and group.reference_latents is None and not run.canceled:
            group.waiting.append(ended)
        else:
            self._announce(group, ended)

    def close(self, groups: list[_Group]) -> None:
        """Cells that ended before a reference that was then canceled: announced without a distance."""
        for group in groups:
            waiting, group.waiting = group.waiting, []
            for ended in waiting:
                self._announce(group, ended)

    def in_plan_order(self) -> list[EndedRun]:
        return sorted(self.ended, key=lambda ended: ended.run.planned.position)

    def _announce(self, group: _Group, ended: EndedRun) -> None:
        if ended.latents is not None and group.reference_latents is not None:
            distance = group.distance(ended.final_images, ended.latents)
            ended.result = ended.result.model_copy(update={"reference_distance": distance})
        self.job.writer.flush()  # the result names its files: they must be readable when it is announced
        self.job.listener.on_scheduler_done(ended.result)
        self.canceled |= ended.run.canceled
        self.ended.append(ended)


# ---------------------------------------------------------------------------------------------------------------
# The engine


class ComparisonEngine:
    """Runs comparisons on one loaded model; reuse it for every job of the process."""

    def __init__(self, model: LoadedModel, limits: Limits | None = None, max_batch: int = 0) -> None:
        self.model = model
        self.limits = limits or Limits()
        self.max_batch = max_batch  # UNet samples per batched call; 0: worker.lockstep.default_max_batch
        self.registry = SchedulerRegistry(model.family, model.scheduler_config, model.public_info())
        # What this model can run, with a reason for what it cannot; workers register it for the API.
        self.catalog = self.registry.catalog

    def check(self, spec: ComparisonSpec) -> JobPlan:
        """Check the spec against this model; returns the plan to run. Raises `SpecError` before any model work."""
        if spec.model is not None and spec.model != self.model.name:
            raise SpecError("model", f"this worker serves {self.model.name!r}, not {spec.model!r}")
        plan = self.registry.plan(spec, self.limits)
        size, multiple = self.model.default_size, self.model.size_multiple
        for name, pixels in (("height", spec.height or size), ("width", spec.width or size)):
            if pixels % multiple:
                raise SpecError(
                    name, f"must be a multiple of {multiple} for {self.model.name or 'this model'}, got {pixels}"
                )
        return plan

    def run(
        self,
        spec: ComparisonSpec,
        storage: Storage,
        keys: StorageLayout,
        should_stop: Callable[[], bool] = _never,
        listener: RunListener | None = None,
    ) -> ComparisonOutcome:
        """Run one comparison, writing its files to `storage` as they are made (PNGs encoded in the background).

        `keys` places the files (`StorageLayout.for_job(id)` for a service job, `StorageLayout("")` for a CLI
        folder). `should_stop` is asked after every step; when it says stop, the runs end there and the outcome
        is "canceled", with what was made so far. `listener` hears each step and each finished scheduler.
        Raises `SpecError` before any model work when the spec breaks a rule of this model's catalog.
        """
        # A sweep without a reference gets this model's default one (a flow solver on flow-matching models).
        spec = self.catalog.for_spec(spec)
        writer = ResultWriter(storage, keys)
        try:
            return self._run(JobContext(spec, self.model, writer, listener or RunListener(), should_stop))
        finally:
            writer.close()

    @torch.no_grad()
    def _run(self, job: JobContext) -> ComparisonOutcome:
        """Every run of the job (cells x schedulers, and the references), then what is measured across them.

        A single-value job is a sweep of one cell: its runs, files and results are exactly those of each sweep cell.
        """
        spec, writer = job.spec, job.writer
        started_at = utcnow()
        clock = time.perf_counter()
        if self.model.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.model.device)

        # 1. Check inputs (every name resolved once), then every run of the plan with a fresh scheduler
        groups = self._groups(job, self.check(spec))

        # 2. Encode the prompt once for the whole job, the model family's way: every cell and scheduler shares it
        embeds = self.model.family.encode_prompt(self.model.pipe, spec, self.model.device)

        # 3. Sample: every run in one UNet batch per tick (batched), or one pipeline call each (sequential); each
        #    run ends (final images, its reference distance) and is announced as soon as it can
        ended = _EndedRuns(job)
        unbatchable = None
        if spec.execution is Execution.batched:
            unbatchable = self._unbatchable_reason([run.built for group in groups for run in group.runs])
        if spec.execution is Execution.batched and unbatchable is None:
            execution = self._execute_batched(job, groups, ended, embeds)
        else:
            execution = self._execute_sequential(job, groups, ended, embeds)
            if unbatchable is not None:
                execution |= {"requested": Execution.batched.value, "why_sequential": unbatchable}
        ended.close(groups)
        runs = ended.in_plan_order()
        canceled = ended.canceled
        results = [run.result for run in runs]
        succeeded = [run for run in runs if run.result.status == "succeeded"]
        finals = [run.final_images for run in succeeded]

        # 4. Across runs: the contact sheet and similarity (single-value jobs); grids, curves and ranking (sweeps)
        contact_sheet = None
        if finals and not spec.is_sweep:
            rows = [(f"{run.result.index + 1}. {run.result.name}", run.final_images) for run in succeeded]
            contact_sheet = writer.contact_sheet(frame_images.make_contact_sheet(rows))
        answer = None
        if spec.is_sweep and not canceled and succeeded:
            first_images = [(run.result, run.final_images[0] if run.final_images else None) for run in succeeded]
            answer = sweep.answer(spec, first_images, writer, self.limits.grid_max_pixels)

        # 5. Charts as PNG files, for clients without the viewer. The convergence and similarity charts describe
        #    one cell; a sweep's picture is its error-vs-NFE plot.
        similarity = Similarity.of(results, [] if spec.is_sweep else finals)
        charts = {} if spec.is_sweep else self._charts(spec, results, similarity, writer)

        # 6. The manifest: everything needed to reproduce the run
        status = JobStatus.canceled if canceled else JobStatus.succeeded
        peak = torch.cuda.max_memory_allocated(self.model.device) if self.model.device.type == "cuda" else None
        manifest = Manifest(
            status=status,
            started_at=started_at.isoformat(),
            finished_at=utcnow().isoformat(),
            spec=spec.model_dump(mode="json", exclude={"webhook"}),
            resolved=ResolvedSize(
                height=spec.height or self.model.default_size,
                width=spec.width or self.model.default_size,
                capture_steps=spec.capture_steps(),
                cells=len(spec.cells()),
            ),
            seeds=SeedRule.of(spec),
            model=self.model.describe(),
            approx_projection=ApproxProjectionRecord.of(self.model.approx),
            versions=Versions.installed(),
            similarity=similarity,
            contact_sheet=contact_sheet,
            execution=execution,
            peak_memory_bytes=peak,
            schedulers=results,
            reference=ReferenceRecord.of(spec, ended.references),
            sweep=answer,
            charts=charts,
        )
        writer.manifest(manifest.to_json())
        return ComparisonOutcome(
            status,
            results,
            manifest,
            writer.keys,
            final_latents=[run.latents for run in succeeded if run.latents is not None],
            sweep=answer,
            unet_evaluations=ended.evaluations,
            wall_s=time.perf_counter() - clock,
        )

    def _groups(self, job: JobContext, plan: JobPlan) -> list[_Group]:
        """The plan's runs grouped by (guidance, seed), each with a fresh scheduler instance (they hold state),
        seeded for its cell (DPMSolverSDE's tree). A single-value job is one group of one cell."""
        spec = plan.spec
        size = (spec.height or self.model.default_size, spec.width or self.model.default_size)
        totals = {p.scheduler_index: p.steps_total for p in progress_plan(spec)}
        tallies = {index: StepTally() for index in totals}
        groups: dict[tuple[float, int], _Group] = {}
        for planned in plan.runs:
            cell, index = planned.cell, planned.scheduler.index
            group = groups.setdefault((cell.guidance_scale, cell.seed), _Group(cell.guidance_scale, cell.seed, []))
            built = self.registry.build(planned.scheduler, cell.seed)
            group.runs.append(SchedulerRun(job, planned, built, size, tallies[index], totals[index]))
        return list(groups.values())

    def _execute_sequential(
        self, job: JobContext, groups: list[_Group], ended: _EndedRuns, embeds: PromptEmbeds
    ) -> dict[str, Any]:
        """Each run through the family pipeline's own `__call__`, one after another: the bit-exact reference."""
        for group in groups:
            for run in group.runs:
                ended.run_ended(group, run, run.denoise(embeds))
                if ended.canceled:
                    break
            if ended.canceled:
                break
        samples = job.spec.num_images * (2 if embeds.kwargs.get("negative_prompt_embeds") is not None else 1)
        return {
            "mode": Execution.sequential.value,
            "guarantee": "each run through the family pipeline's __call__: bit-identical to plain diffusers",
            "unet_batch_size": samples,
            "timing": "wall_s: each run's own pipeline call, frames and final decode",
        }

    def _execute_batched(
        self, job: JobContext, groups: list[_Group], ended: _EndedRuns, embeds: PromptEmbeds
    ) -> dict[str, Any]:
        """Every run of the job in lock-step, one UNet batch per tick (`worker.lockstep`): every scheduler of every
        cell, whatever its steps and guidance, and the references; each with its own scheduler, generators and
        guidance, so each cell is its single-value job up to the UNet's batch-size rounding."""
        prompt = EncodedPrompt(embeds.kwargs["prompt_embeds"], embeds.kwargs.get("negative_prompt_embeds"))
        runs = [
            run.lockstep_run(prompt, functools.partial(ended.run_ended, group))
            for group in groups
            for run in group.runs
        ]
        report = LockstepRunner(self.model.pipe, self.max_batch).run(runs, job.should_stop)
        execution = {
            "mode": Execution.batched.value,
            "guarantee": "every run (scheduler x cell) in one UNet batch per tick; each keeps its own scheduler, "
            "steps, guidance, generators and noise: equal to sequential up to the UNet's batch-size rounding "
            "(CPU float32: final latents within 1e-4, PNGs within one level on 99.9 % of pixels)",
            **report.describe(),
            "timing": "wall_s: each run's share of every tick it took part in (tick time split by its share of the "
            "tick's UNet samples), plus its own frame and final-image work",
        }
        if job.spec.is_sweep:
            execution |= self._cells_per_tick(groups, report)
        return execution

    @staticmethod
    def _cells_per_tick(groups: list[_Group], report: LockstepReport) -> dict[str, Any]:
        """How the sweep's cells shared UNet batches: ticks by how many distinct cells had samples in them."""
        runs = [run for group in groups for run in group.runs]  # in the order they were given to the runner
        histogram: dict[int, int] = {}
        with_reference = 0
        for members in report.tick_runs:
            cells = {runs[i].cell.label.folder for i in members if not runs[i].is_reference}
            histogram[len(cells)] = histogram.get(len(cells), 0) + 1
            with_reference += any(runs[i].is_reference for i in members)
        return {
            "cells_per_tick": {str(cells): ticks for cells, ticks in sorted(histogram.items())},
            "ticks_with_reference_runs": with_reference,
        }

    def _unbatchable_reason(self, built: list[BuiltScheduler]) -> str | None:
        """Why this job cannot run lock-step, or None: the runner drives SD 1.x/2.x's UNet call alone."""
        if self.model.family.name != "sd":
            return f"batched execution drives the SD 1.x/2.x UNet only; {self.model.family.name} runs sequentially"
        with_call_config = [b.entry.id for b in built if b.call_config]
        if with_call_config:
            return f"pipeline options ({', '.join(with_call_config)}: e.g. guidance_rescale) run through the pipeline"
        return None

    @staticmethod
    def _charts(
        spec: ComparisonSpec,
        results: list[SchedulerResult],
        similarity: Similarity,
        writer: ResultWriter,
    ) -> dict[str, str]:
        curves = [(f"{r.index + 1}. {r.name}", r.convergence) for r in results]
        charts = {
            "convergence": charts_png.convergence_png(curves, max(spec.steps_values), metrics.EMERGENCE_THRESHOLD),
        }
        if similarity.matrix:
            charts["similarity"] = charts_png.similarity_png(similarity.schedulers, similarity.matrix)
        return {name: writer.chart(name, png) for name, png in charts.items()}
