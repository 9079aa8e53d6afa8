"""What a comparison will cost, before it is spent: its cells, UNet evaluations and an estimated duration.

The duration comes from the measured throughput of the workers serving the job's model: each worker publishes,
with its heartbeat, the model it serves and the image x UNet evaluations per second it achieved over its warm-up
and its jobs (whole runs: decoding, frames and storage included), so the estimate prices what a job really costs
on that deployment. Workers of other models never price it: their UNet may be a hundred times faster or slower.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from pydantic import BaseModel, Field

from service.contract import Catalog, CellLabel, ComparisonSpec, SweepCost, load_catalog, sweep_cost
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


def estimate(
    spec: ComparisonSpec, workers: Sequence[WorkerInfo], model: str, catalog: Catalog | None = None
) -> ComparisonEstimate:
    """The spec's cost on `model`, priced by the throughput of the live `workers` that serve `model` only."""
    cost = sweep_cost(spec, catalog or load_catalog())
    measured = [worker.evals_per_s for worker in workers if worker.serves == model and worker.evals_per_s]
    rate = statistics.median(measured) if measured else None
    reference = spec.resolved_reference()
    return ComparisonEstimate(
        cells=[cell.label for cell in spec.cells()],
        schedulers=len(spec.schedulers),
        cost=cost,
        reference=reference.model_dump(mode="json") if reference is not None else None,
        model=model,
        evals_per_s=round(rate, 3) if rate else None,
        workers_measured=len(measured),
        estimated_seconds=round(cost.unet_evaluations / rate, 2) if rate else None,
    )
