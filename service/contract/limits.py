"""Deployment caps, and the one check every spec passes before any model work (`check_spec`: the API's 422s, the
CLI's and the worker's refusals; it returns the job's plan), with the cost a job is capped and priced by
(`sweep_cost`)."""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    Field,
)

from service.contract.catalog import Catalog, load_catalog
from service.contract.plan import JobPlan, plan_job
from service.contract.spec import MAX_IMAGES, MAX_STEPS, ComparisonSpec
from service.errors import SpecError


class Limits(BaseModel):
    """A deployment's caps, at most the spec's own bounds: each cap's default is declared here, once, and `Settings`
    reads it (SCHEDLAB_MAX_STEPS and the rest set them)."""

    max_steps: int = MAX_STEPS
    max_images: int = MAX_IMAGES
    max_schedulers: int = 32
    max_resolution: int = 1024
    max_prompt_chars: int = 2000
    max_unet_evals: int = 200_000
    max_cells: int = 256
    grid_max_pixels: int = 16_000_000

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        return cls(**{name: getattr(settings, name) for name in cls.model_fields})


def check_spec(spec: ComparisonSpec, limits: Limits, catalog: Catalog | None = None) -> JobPlan:
    """Every rule a spec must pass before any model work; raises `SpecError` naming the field and the limit.

    Returns the job's plan: every scheduler name resolved (once), every run with its UNet calls."""
    catalog = catalog or load_catalog()
    if not spec.prompt.strip():
        raise SpecError("prompt", "must not be empty")
    for field, text in (("prompt", spec.prompt), ("negative_prompt", spec.negative_prompt or "")):
        if len(text) > limits.max_prompt_chars:
            raise SpecError(field, f"is {len(text)} characters; the limit is {limits.max_prompt_chars}")
    for index, steps in enumerate(spec.steps_values):
        _check_range(f"steps[{index}]" if isinstance(spec.steps, list) else "steps", steps, 1, limits.max_steps)
    _check_range("num_images", spec.num_images, 1, limits.max_images)
    _check_range("schedulers", len(spec.schedulers), 1, limits.max_schedulers, what="entries")
    for field, pixels in (("height", spec.height), ("width", spec.width)):
        if pixels is None:
            continue
        if pixels % 8:
            raise SpecError(field, f"must be a multiple of 8, got {pixels}")
        _check_range(field, pixels, 8, limits.max_resolution)
    most_steps = max(spec.steps_values)
    if spec.capture is None:
        pass  # the default fits any `steps`
    elif spec.capture.steps is not None:
        for index, step in enumerate(spec.capture.steps):
            _check_range(f"capture.steps[{index}]", step, 1, most_steps, limit_name="steps")
    elif spec.capture.every is not None and spec.capture.every > most_steps:
        raise SpecError("capture.every", f"must be between 1 and steps ({most_steps}), got {spec.capture.every}")
    if catalog.model is not None:
        catalog.model.check_spec(spec)
    plan = plan_job(spec, catalog)
    reference = spec.resolved_reference()
    if reference is not None:
        _check_range("reference.steps", reference.steps, 1, limits.max_steps)
    if plan.reference is not None and plan.reference.entry.stochastic:
        entry_id = plan.reference.entry.id
        raise SpecError("reference.scheduler", f"{entry_id} is stochastic; a reference must be deterministic")
    cost = _cost(plan)
    axes = "steps x guidance_scale x seed"
    if cost.cells > limits.max_cells:
        raise SpecError(axes, f"the sweep has {cost.cells} cells; the limit is {limits.max_cells}")
    if cost.unet_evaluations > limits.max_unet_evals:
        what = f"{cost.cells} cells x {len(spec.schedulers)} schedulers" + (" and the reference" if reference else "")
        raise SpecError(
            axes if spec.is_sweep else "schedulers",
            f"the job ({what}) needs {cost.unet_evaluations} image x UNet evaluations; "
            f"the limit is {limits.max_unet_evals}",
        )
    return plan


class SweepCost(BaseModel):
    """What a job will spend, known before it runs."""

    cells: int = Field(description="(steps, guidance_scale, seed) combinations.")
    runs: int = Field(description="cells x schedulers, plus one reference run per (guidance_scale, seed).")
    unet_evaluations: int = Field(description="Image x UNet evaluations of the whole job, the reference's included.")
    reference_evaluations: int = Field(description="The reference runs' share of `unet_evaluations`.")


def sweep_cost(spec: ComparisonSpec, catalog: Catalog | None = None) -> SweepCost:
    """UNet evaluations (per image, one call evaluates both guidance halves) of every run the job will make."""
    return _cost(plan_job(spec, catalog or load_catalog()))


def _cost(plan: JobPlan) -> SweepCost:
    return SweepCost(
        cells=len(plan.spec.cells()),
        runs=len(plan.runs),
        unet_evaluations=plan.unet_evaluations,
        reference_evaluations=plan.reference_evaluations,
    )


def _check_range(field: str, value: int, low: int, high: int, what: str = "", limit_name: str | None = None) -> None:
    if not low <= value <= high:
        unit = f" {what}" if what else ""
        high_text = f"{limit_name} ({high})" if limit_name else str(high)
        raise SpecError(field, f"must be between {low} and {high_text}{unit}, got {value}")
