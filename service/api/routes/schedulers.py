"""The scheduler registry, as the API knows it without torch."""

from __future__ import annotations

from fastapi import APIRouter, Query

from service.api.deps import WorkersDep
from service.api.problems import PROBLEM_JSON, Problem
from service.api.schemas import SchedulersPublic
from service.contract import load_catalog

router = APIRouter(prefix="/v1/schedulers", tags=["schedulers"])


@router.get("", responses={422: {"model": Problem, "content": {PROBLEM_JSON: {}}}})
def list_schedulers(
    workers: WorkersDep,
    model: str | None = Query(None, max_length=500, description="A served model: its catalog, with reasons."),
) -> SchedulersPublic:
    """Every scheduler and preset: names, aliases, stochastic, order, overridable config keys; per model with
    `model`, where `available` and `unavailable_reason` say what that model can run."""
    catalog = load_catalog() if model is None else workers.served_catalog(model)
    return SchedulersPublic(
        data=catalog.entries,
        count=len(catalog.entries),
        diffusers_version=catalog.diffusers_version,
        model=catalog.model,
        comfyui_samplers=catalog.comfyui_samplers,
        schedules=catalog.schedules,
    )
