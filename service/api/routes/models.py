"""The models this deployment serves: what workers registered, and which model a spec runs on."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter

from service.api.deps import SettingsDep, StoreDep
from service.api.problems import PROBLEM_JSON, Problem
from service.api.schemas import ModelPublic, ModelsPublic
from service.contract import Catalog, ComparisonSpec
from service.errors import SpecError
from service.jobs import JobStore
from service.settings import Settings

router = APIRouter(prefix="/v1/models", tags=["models"])


def registered_catalog(store: JobStore, model: str, field: str = "model") -> Catalog:
    """The catalog a worker of `model` registered; a 422 listing the registered models when none did."""
    catalog = store.model_catalog(model)
    if catalog is None:
        served = ", ".join(store.registered_models()) or "none"
        raise SpecError(field, f"no worker serves model {model!r}; served models: {served}")
    return catalog


def resolve_model(spec: ComparisonSpec, settings: Settings, store: JobStore) -> tuple[ComparisonSpec, Catalog | None]:
    """The spec with its model named (the default when unset), and the catalog to validate it against.

    The API learns what a model accepts from the catalog its workers registered. The default model before any
    of its workers registered is the one exception: its jobs are checked against the generic catalog and queued,
    so a deployment accepts work while its first worker is still loading.
    """
    model = spec.model or settings.model
    catalog = store.model_catalog(model)
    if catalog is None and model != settings.model:
        catalog = registered_catalog(store, model)
    return spec.model_copy(update={"model": model}), catalog


@router.get("", responses={401: {"model": Problem, "content": {PROBLEM_JSON: {}}}})
def list_models(settings: SettingsDep, store: StoreDep) -> ModelsPublic:
    """The models live workers serve now: family, default size, available schedulers, worker count."""
    workers = Counter(worker.serves for worker in store.workers() if worker.serves)
    data = []
    for name in sorted(workers):
        catalog = store.model_catalog(name)
        if catalog is None or catalog.model is None:
            continue
        data.append(
            ModelPublic(
                **catalog.model.model_dump(),
                default=name == settings.model,
                workers=workers[name],
                schedulers=[entry.id for entry in catalog.available()],
            )
        )
    return ModelsPublic(data=data, count=len(data), default_model=settings.model)
