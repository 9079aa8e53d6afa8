"""The models this deployment serves: what their workers registered."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter

from service.api.deps import SettingsDep, WorkersDep
from service.api.problems import PROBLEM_JSON, Problem
from service.api.schemas import ModelPublic, ModelsPublic

router = APIRouter(prefix="/v1/models", tags=["models"])


@router.get("", responses={401: {"model": Problem, "content": {PROBLEM_JSON: {}}}})
def list_models(settings: SettingsDep, workers: WorkersDep) -> ModelsPublic:
    """The models live workers serve now: family, default size, available schedulers, worker count."""
    serving = Counter(worker.serves for worker in workers.workers() if worker.serves)
    data = []
    for name in sorted(serving):
        catalog = workers.model_catalog(name)
        if catalog is None or catalog.model is None:
            continue
        data.append(
            ModelPublic(
                **catalog.model.model_dump(),
                default=name == settings.model,
                workers=serving[name],
                schedulers=[entry.id for entry in catalog.available()],
            )
        )
    return ModelsPublic(data=data, count=len(data), default_model=settings.model)
