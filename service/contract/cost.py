"""What a job's running time depends on, counted from its spec, and the cost model workers fit to price it.

A worker's time goes to UNet calls, each with a fixed cost (launching the network) plus a cost per sample in its
batch, and to VAE decodes (frames and final images). UNet evaluations alone do not price a job: batched
(lock-step) execution runs every scheduler and cell of a job in one UNet batch per tick, so the same evaluations
take far fewer calls than one pipeline call per run. `job_work` counts what a job does the way the worker runs it;
a worker fits `CostModel` to its own runs (`fit_cost_model`) and publishes it; dry runs price jobs with it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, Field

from service.contract.catalog import Catalog, load_catalog
from service.contract.spec import ComparisonSpec, Decoder, Execution, FrameKind

# Lock-step execution drives the SD 1.x/2.x UNet only, and none of the pipeline options some presets set
# (guidance_rescale): the rule `worker.engine` runs by. Other jobs run one pipeline call per run.
BATCHED_FAMILIES = frozenset({"sd"})


class JobWork(BaseModel):
    """What a job does on a worker, counted from its spec: what its running time is priced by."""

    execution: Execution = Field(
        description="How the worker runs it: a batched job it cannot run lock-step runs sequentially."
    )
    ticks: int = Field(description="UNet steps: batched, one per lock-step tick; sequential, one per run and step.")
    tick_batch_sizes: dict[int, int] = Field(description="Samples per UNet step (images, x 2 with guidance) -> steps.")
    unet_calls: int = Field(description="UNet forward passes: batched ticks split into chunks of at most max_batch.")
    unet_samples: int = Field(description="Samples over every UNet call.")
    decoded_images: int = Field(description="VAE decodes, one per image: frames and final images, references' too.")
    max_batch: int = Field(description="The most samples the worker puts in one UNet call.")


@dataclass(frozen=True)
class _Run:
    ticks: int  # UNet calls of this run: its scheduler's rule for its steps
    samples: int  # per call
    decoded_images: int


def job_work(spec: ComparisonSpec, catalog: Catalog | None = None, max_batch: int = 64) -> JobWork:
    """Count the UNet steps, calls, samples and decodes of `spec` on a worker splitting ticks at `max_batch`.

    Batched: every run (cell x scheduler, and the references) starts at the first tick and takes part in one tick
    per UNet call of its own (order-2 solvers about twice its steps, PNDM one more), so tick k batches the samples
    of every run with more than k calls. Sequential: each run's calls are UNet steps of their own.
    """
    catalog = catalog or load_catalog()
    model = catalog.model
    guided_doubles = model is None or model.takes_negative_prompt  # Flux's guidance is an input, not a second pass
    entries = [catalog.resolve(choice.name, field=f"schedulers[{i}].name") for i, choice in enumerate(spec.schedulers)]
    reference = spec.resolved_reference()
    runs: list[_Run] = []
    lock_step = model is None or model.family in BATCHED_FAMILIES
    for cell in spec.cells():
        samples = spec.num_images * (2 if cell.guidance_scale > 1 and guided_doubles else 1)
        captured = len(spec.capture_steps(cell.steps))
        # Latent frames decoded by the VAE reuse the final images at the last step; other frames decode each.
        frames = 0 if spec.decoder is Decoder.approx else captured - int(spec.frames is FrameKind.latent)
        runs += [_Run(entry.unet_calls(cell.steps), samples, spec.num_images * (frames + 1)) for entry in entries]
    if reference is not None:
        entry = catalog.resolve(reference.scheduler, field="reference.scheduler")
        entries.append(entry)
        for guidance in spec.guidance_values:
            samples = spec.num_images * (2 if guidance > 1 and guided_doubles else 1)
            runs += [_Run(entry.unet_calls(reference.steps), samples, spec.num_images)] * len(spec.seed_values)
    lock_step = lock_step and not any(entry.pipeline_config for entry in entries)
    if spec.execution is Execution.batched and lock_step:
        sizes: dict[int, int] = {}
        for tick in range(max(run.ticks for run in runs)):
            size = sum(run.samples for run in runs if run.ticks > tick)
            sizes[size] = sizes.get(size, 0) + 1
        calls = sum(math.ceil(size / max_batch) * count for size, count in sizes.items())
        execution = Execution.batched
    else:
        sizes = {}
        for run in runs:
            sizes[run.samples] = sizes.get(run.samples, 0) + run.ticks
        calls = sum(sizes.values())
        execution = Execution.sequential
    return JobWork(
        execution=execution,
        ticks=sum(sizes.values()),
        tick_batch_sizes=dict(sorted(sizes.items())),
        unet_calls=calls,
        unet_samples=sum(size * count for size, count in sizes.items()),
        decoded_images=sum(run.decoded_images for run in runs),
        max_batch=max_batch,
    )


class CostModel(BaseModel):
    """A worker's running time for a job: seconds per UNet call, per sample in a call and per decoded image.

    Fitted by the worker to its own warm-up runs and jobs (whole runs: frames and storage included), so it prices
    what a job costs on that worker's model, device and storage.
    """

    seconds_per_unet_call: float = Field(description="The fixed cost of a UNet forward pass, whatever its batch.")
    seconds_per_sample: float = Field(description="The cost of one more sample in a UNet call.")
    seconds_per_decoded_image: float = Field(description="A VAE decode of one image, its PNG and its storage.")
    max_batch: int = Field(description="The most samples this worker puts in one UNet call.")
    runs_fitted: int = Field(description="How many measured runs (warm-up and jobs) the fit is from.")

    def seconds(self, work: JobWork) -> float:
        return (
            self.seconds_per_unet_call * work.unet_calls
            + self.seconds_per_sample * work.unet_samples
            + self.seconds_per_decoded_image * work.decoded_images
        )


def cost_features(work: JobWork) -> tuple[float, float, float]:
    """The quantities `CostModel`'s coefficients multiply, in their order."""
    return (float(work.unet_calls), float(work.unet_samples), float(work.decoded_images))


def fit_cost_model(observations: Sequence[tuple[JobWork, float]], max_batch: int) -> CostModel | None:
    """The non-negative least-squares fit of seconds = a x calls + b x samples + c x decoded images.

    Each run counts by its relative error (rows weighted by 1 / seconds), so a long job does not drown the short
    warm-up runs that tell the fixed cost of a call from the cost of its samples. Coefficients are kept
    non-negative: every subset of them is fitted and the best fit without a negative one wins. None without a
    measured run.
    """
    rows = [(cost_features(work), seconds) for work, seconds in observations if seconds > 0]
    if not rows:
        return None
    weighted = [([x / seconds for x in features], 1.0) for features, seconds in rows]
    best: tuple[float, list[float]] | None = None
    for size in (3, 2, 1):
        for kept in itertools.combinations(range(3), size):
            solved = _least_squares([[row[i] for i in kept] for row, _ in weighted], [y for _, y in weighted])
            if solved is None or any(value < 0 for value in solved):
                continue
            coefficients = [0.0, 0.0, 0.0]
            for index, value in zip(kept, solved, strict=True):
                coefficients[index] = value
            residual = sum((sum(c * x for c, x in zip(coefficients, row, strict=True)) - y) ** 2 for row, y in weighted)
            if best is None or residual < best[0] - 1e-12:
                best = (residual, coefficients)
    if best is None:
        return None
    call, sample, image = best[1]
    return CostModel(
        seconds_per_unet_call=call,
        seconds_per_sample=sample,
        seconds_per_decoded_image=image,
        max_batch=max_batch,
        runs_fitted=len(rows),
    )


def _least_squares(rows: list[list[float]], targets: list[float]) -> list[float] | None:
    """Solve the normal equations by Gaussian elimination; None when they are singular (too few runs)."""
    width = len(rows[0])
    matrix = [[sum(r[i] * r[j] for r in rows) for j in range(width)] for i in range(width)]
    vector = [sum(r[i] * y for r, y in zip(rows, targets, strict=True)) for i in range(width)]
    scale = max(abs(v) for row in matrix for v in row) or 1.0
    for column in range(width):
        pivot = max(range(column, width), key=lambda r: abs(matrix[r][column]))
        if abs(matrix[pivot][column]) <= 1e-12 * scale:
            return None
        matrix[column], matrix[pivot] = matrix[pivot], matrix[column]
        vector[column], vector[pivot] = vector[pivot], vector[column]
        for row in range(width):
            if row != column:
                factor = matrix[row][column] / matrix[column][column]
                matrix[row] = [a - factor * b for a, b in zip(matrix[row], matrix[column], strict=True)]
                vector[row] -= factor * vector[column]
    return [vector[i] / matrix[i][i] for i in range(width)]
