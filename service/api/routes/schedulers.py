"""The scheduler registry, as the API knows it without torch."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.schemas import SchedulersPublic
from service.contract import load_catalog

router = APIRouter(prefix="/v1/schedulers", tags=["schedulers"])


@router.get("")
def list_schedulers() -> SchedulersPublic:
    """Every scheduler and preset: names, aliases, stochastic, order, overridable config keys."""
    catalog = load_catalog()
    return SchedulersPublic(
        data=catalog.entries, count=len(catalog.entries), diffusers_version=catalog.diffusers_version
    )
