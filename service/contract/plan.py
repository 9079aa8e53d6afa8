"""A checked spec's plan: every scheduler name resolved once, every run the job will make, and what each costs.

`check_spec` returns it; the API keeps only its cost, the worker's registry attaches its own entries to it
(`worker.registry.SchedulerRegistry.plan`) and the engine runs it as is.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.contract.catalog import Catalog, CatalogEntry
from service.contract.spec import Cell, ComparisonSpec, SchedulerChoice
from service.contract.storage_layout import StorageLayout


@dataclass(frozen=True)
class PlannedScheduler:
    """One scheduler of the job (or its reference) as the catalog resolved it."""

    index: int  # its place in the spec; the reference's is len(spec.schedulers)
    name: str  # as the spec names it; the reference's is "reference: {its scheduler}"
    entry: CatalogEntry
    choice: SchedulerChoice  # the config the name's schedule sets, then the user's own
    field: str  # the spec's field, for errors raised while building it

    @property
    def is_reference(self) -> bool:
        return self.field == "reference"


@dataclass(frozen=True)
class PlannedRun:
    """One sampling run: a scheduler on a cell (a reference run: on its group's guidance and seed)."""

    scheduler: PlannedScheduler
    cell: Cell
    folder: str  # under the job's folder: `{cell folder}NN-{entry id}`, or `reference/{group}`
    capture_steps: tuple[int, ...]
    unet_calls: int  # per image, by the registry's rule for this scheduler
    position: int  # the run's place in the plan: results are listed in this order

    @property
    def is_reference(self) -> bool:
        return self.scheduler.is_reference


@dataclass(frozen=True)
class JobPlan:
    """Every run of a job, grouped by (guidance, seed): the group's reference first, then its cells x schedulers."""

    spec: ComparisonSpec
    schedulers: tuple[PlannedScheduler, ...]
    reference: PlannedScheduler | None
    runs: tuple[PlannedRun, ...]

    @property
    def groups(self) -> int:
        return len(self.spec.guidance_values) * len(self.spec.seed_values)

    @property
    def unet_evaluations(self) -> int:
        """Image x UNet evaluations of every run, the references' included."""
        return sum(run.unet_calls for run in self.runs) * self.spec.num_images

    @property
    def reference_evaluations(self) -> int:
        return sum(run.unet_calls for run in self.runs if run.is_reference) * self.spec.num_images


def plan_job(spec: ComparisonSpec, catalog: Catalog) -> JobPlan:
    """Resolve every scheduler name once and list the job's runs; raises `SpecError` naming the field."""
    schedulers = tuple(
        _planned(catalog, index, choice.name, choice, f"schedulers[{index}]")
        for index, choice in enumerate(spec.schedulers)
    )
    reference = spec.resolved_reference()
    planned_reference = None
    if reference is not None:
        choice = SchedulerChoice(name=reference.scheduler)
        name = f"reference: {reference.scheduler}"
        planned_reference = _planned(catalog, len(schedulers), name, choice, "reference")
    runs: list[PlannedRun] = []
    groups_seen: set[tuple[float, int]] = set()
    for cell in spec.cells():
        group = (cell.guidance_scale, cell.seed)
        if planned_reference is not None and reference is not None and group not in groups_seen:
            reference_cell = Cell(-1, reference.steps, cell.guidance_scale, cell.seed, sweep=False)
            folder = f"reference/{StorageLayout.group_name(cell.guidance_scale, cell.seed)}"
            runs.append(_run(planned_reference, reference_cell, folder, (reference.steps,), len(runs)))
        groups_seen.add(group)
        for planned in schedulers:
            folder = cell.folder + StorageLayout.scheduler_folder(planned.index, planned.entry.id)
            runs.append(_run(planned, cell, folder, tuple(spec.capture_steps(cell.steps)), len(runs)))
    return JobPlan(spec, schedulers, planned_reference, tuple(runs))


def _planned(catalog: Catalog, index: int, name: str, choice: SchedulerChoice, field: str) -> PlannedScheduler:
    # A bare name (the reference's scheduler) is its own field; a scheduler choice's is `{field}.name`.
    name_field = "reference.scheduler" if field == "reference" else None
    resolved = catalog.resolve_choice(choice, field=field, name_field=name_field)
    return PlannedScheduler(index, name, resolved.entry, resolved.choice, field)


def _run(planned: PlannedScheduler, cell: Cell, folder: str, capture: tuple[int, ...], position: int) -> PlannedRun:
    return PlannedRun(planned, cell, folder, capture, planned.entry.unet_calls(cell.steps), position)
