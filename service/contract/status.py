"""A job's lifecycle as both sides see it: its status, the progress plan the worker fills in, the types of its
event stream and the step records the worker appends to it."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from pydantic import (
    BaseModel,
    Field,
)

from service.contract.spec import ComparisonSpec


class JobStatus(StrEnum):
    """A comparison job's lifecycle: queued → running → succeeded | failed | canceled."""

    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    canceled = "canceled"

    @property
    def is_terminal(self) -> bool:
        return self in (JobStatus.succeeded, JobStatus.failed, JobStatus.canceled)


class JobProgress(BaseModel):
    scheduler_index: int
    scheduler: str
    steps_done: int
    steps_total: int


def progress_plan(spec: ComparisonSpec) -> list[JobProgress]:
    """One progress entry per scheduler (its steps summed over the cells), and one for the reference runs."""
    cells = spec.cells()
    total = sum(cell.steps for cell in cells)
    plan = [
        JobProgress(scheduler_index=i, scheduler=choice.name, steps_done=0, steps_total=total)
        for i, choice in enumerate(spec.schedulers)
    ]
    reference = spec.resolved_reference()
    if reference is not None:
        groups = len(spec.guidance_values) * len(spec.seed_values)
        plan.append(
            JobProgress(
                scheduler_index=len(spec.schedulers),
                scheduler=f"reference: {reference.scheduler}",
                steps_done=0,
                steps_total=reference.steps * groups,
            )
        )
    return plan


class JobEventType(StrEnum):
    """The typed events of a job's event stream (`GET /v1/comparisons/{id}/events`), in the order they occur.

    `queued` comes again when a job is retried after its worker died; exactly one terminal event ends a stream.
    """

    queued = "queued"
    started = "started"
    step = "step"
    scheduler_done = "scheduler_done"
    succeeded = "succeeded"
    failed = "failed"
    canceled = "canceled"

    @property
    def is_terminal(self) -> bool:
        return self in (JobEventType.succeeded, JobEventType.failed, JobEventType.canceled)


class StepRecord(BaseModel):
    """One completed scheduler step as the worker records it (the `step` event's data, with storage keys).

    New optional fields (a sweep cell's label, say) can be added without breaking readers.
    """

    scheduler_index: int
    scheduler: str
    step: int = Field(description="Completed scheduler steps, 1-based.")
    of: int = Field(description="The scheduler's total steps.")
    timestep: float | None = Field(None, description="The model timestep of the step just completed.")
    sigma: float | None = Field(
        None, description="Noise level of the sample after this step, for schedulers that have sigmas."
    )
    frames: list[str] = Field(default_factory=list, description="Frames captured at this step (storage keys).")
    at: float = Field(description="Unix time at which the worker recorded the step.")


def utcnow() -> datetime:
    return datetime.now(UTC)
