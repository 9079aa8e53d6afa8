"""What a comparison will cost, before it is spent: its cells, UNet evaluations and an estimated duration.

The duration comes from the cost models of the workers serving the job's model: each worker fits, to its own
warm-up runs and jobs (whole runs: decoding, frames and storage included), seconds per UNet call, per sample in a
call and per decoded image, and publishes them with its heartbeat. The job's work is counted from its spec the way
the worker runs it (`job_work`: batched jobs share UNet calls across runs), so a batched job is priced by the calls
it makes, not by its evaluations. Workers of other models never price it: their UNet may be a hundred times faster
or slower. Workers without a cost model (an older version) price it by their measured evaluations per second.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

from service.contract import (
    Catalog,
    CellLabel,
    ComparisonSpec,
    CostModel,
    JobWork,
    SweepCost,
    job_work,
    load_catalog,
    sweep_cost,
)
from service.workers import WorkerInfo


class ComparisonEstimate(BaseModel):
    """A dry run's answer: nothing was queued."""

    queued: bool = Field(False, description="Always false: a dry run queues nothing.")
    cells: list[CellLabel] = Field(description="Every (steps, guidance_scale, seed) combination, in run order.")
    schedulers: int
    cost: SweepCost
    reference: dict[str, object] | None = Field(description="The reference the sweep is measured against.")
    model: str = Field(description="The model the job runs on: only the workers serving it price the job.")
    evals_per_s: float | None = Field(
        description="Image x UNet evaluations per second: the median of the measured throughput of the live "
        "workers serving the job's model."
    )
    workers_measured: int = Field(description="Live workers serving the job's model that have measured throughput.")
    estimated_seconds: float | None = Field(
        description="Running time once a worker takes the job (queue wait not included); null while no live "
        "worker of its model has measured its throughput."
    )
    estimated_by: Literal["cost_model", "throughput"] | None = Field(
        None,
        description="cost_model: the median of the workers' cost models applied to the job's work; throughput: "
        "UNet evaluations / evals_per_s (no worker published a cost model); null: no estimate.",
    )
    work: JobWork | None = Field(
        None, description="What the job does on the worker whose estimate is the median (at its UNet batch size)."
    )
    cost_model: CostModel | None = Field(None, description="That worker's cost model.")


def estimate(
    spec: ComparisonSpec, workers: Sequence[WorkerInfo], model: str, catalog: Catalog | None = None
) -> ComparisonEstimate:
    """The spec's cost on `model`, priced by the cost models (or throughput) of the live `workers` serving it."""
    catalog = catalog or load_catalog()
    cost = sweep_cost(spec, catalog)
    serving = [worker for worker in workers if worker.serves == model]
    measured = [worker.evals_per_s for worker in serving if worker.evals_per_s]
    rate = statistics.median(measured) if measured else None
    priced = sorted((_price(spec, catalog, worker.cost_model) for worker in serving if worker.cost_model), key=_seconds)
    seconds: float | None = None
    work, cost_model, estimated_by = None, None, None
    if priced:
        seconds, work, cost_model = priced[(len(priced) - 1) // 2]  # the median (the lower one of an even count)
        estimated_by = "cost_model"
    elif rate:
        seconds, estimated_by = cost.unet_evaluations / rate, "throughput"
    reference = spec.resolved_reference()
    return ComparisonEstimate(
        cells=[cell.label for cell in spec.cells()],
        schedulers=len(spec.schedulers),
        cost=cost,
        reference=reference.model_dump(mode="json") if reference is not None else None,
        model=model,
        evals_per_s=round(rate, 3) if rate else None,
        workers_measured=len(measured),
        estimated_seconds=round(seconds, 2) if seconds is not None else None,
        estimated_by=estimated_by,
        work=work,
        cost_model=cost_model,
    )


def _price(spec: ComparisonSpec, catalog: Catalog, cost_model: CostModel) -> tuple[float, JobWork, CostModel]:
    """The job's work on a worker of this cost model (its UNet batch size), and its seconds there."""
    work = job_work(spec, catalog, cost_model.max_batch)
    return cost_model.seconds(work), work, cost_model


def _seconds(priced: tuple[float, JobWork, CostModel]) -> float:
    return priced[0]
