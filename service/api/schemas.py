"""The API's response models: storage keys become URLs served by the API itself."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi import Request
from pydantic import BaseModel, Field

from service.contract import (
    CatalogEntry,
    ComfyUISampler,
    GridPageBase,
    JobEventType,
    ModelInfo,
    SchedulerResult,
    SchedulerResultBase,
    ScheduleType,
    StepRecord,
    StorageLayout,
    SweepAnswer,
    SweepAnswerBase,
)
from service.job_store import ComparisonBase, JobEvent, JobRecord
from service.workers import WorkerInfo


class FrameLink(BaseModel):
    step: int
    image_index: int
    url: str


class SchedulerResultPublic(SchedulerResultBase):
    scheduler: str = Field(description="The name as requested.")
    status: str
    final_images: list[str]
    frames: list[FrameLink]
    grid_url: str | None


class GridLink(GridPageBase):
    url: str


class SweepPublic(SweepAnswerBase):
    """A sweep's answer: error-vs-NFE curves, cheapest cell near the reference, ranking per budget, X/Y grids."""

    grids: list[GridLink] = Field(description="x = steps, y = scheduler; one per guidance and seed, maybe paged.")
    plot_url: str | None
    answer_url: str


class ComparisonLinks(BaseModel):
    self: str
    cancel: str


class ComparisonPublic(ComparisonBase):
    """A comparison job as clients see it."""

    queue_position: int | None = Field(description="0 = next; only while queued.")
    results: list[SchedulerResultPublic]
    contact_sheet_url: str | None
    manifest_url: str | None
    sweep: SweepPublic | None = Field(None, description="Sweeps only, once finished.")
    charts: dict[str, str] = Field(
        default_factory=dict, description="PNG charts by name (`convergence`, `similarity`): their URLs."
    )
    links: ComparisonLinks


class ComparisonsPublic(BaseModel):
    data: list[ComparisonPublic]
    count: int = Field(description="Total number of comparisons visible to the caller.")
    offset: int
    limit: int


class SchedulersPublic(BaseModel):
    data: list[CatalogEntry]
    count: int
    diffusers_version: str
    model: ModelInfo | None = Field(None, description="With ?model=: the model, as its workers registered it.")
    comfyui_samplers: dict[str, ComfyUISampler] = Field(
        default_factory=dict, description="ComfyUI sampler names and the entry each runs."
    )
    schedules: dict[str, ScheduleType] = Field(
        default_factory=dict,
        description="Schedule types (A1111's 'Schedule type', ComfyUI's 'scheduler'): append one to a sampler's name, "
        "e.g. 'dpmpp_2m karras'.",
    )


class ModelPublic(ModelInfo):
    """A model served now."""

    default: bool = Field(description="Specs without `model` run on it.")
    workers: int = Field(description="Live workers serving it.")
    schedulers: list[str] = Field(description="Registry ids it can run; GET /v1/schedulers?model= has the rest.")


class ModelsPublic(BaseModel):
    data: list[ModelPublic]
    count: int
    default_model: str


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    redis: bool
    storage: bool
    queue_depth: int | None
    workers: list[WorkerInfo]


class StepEventPublic(StepRecord):
    """The `step` event: one completed scheduler step, with the frames captured at it."""

    frames: list[str] = Field(description="URLs of the frames captured at this step, by image index.")


class SchedulerDoneEventPublic(SchedulerResultPublic):
    """The `scheduler_done` event: one scheduler's results (timings, UNet calls, emergence step, quality)."""

    scheduler_index: int


class _FileUrls:
    """URLs of one job's files: `url_for` once per job, not once per frame (it dominated status reads)."""

    def __init__(self, request: Request, job_id: str) -> None:
        self.base = str(request.url_for("get_comparison_file", job_id=job_id, path="x"))[:-1]
        self.root = StorageLayout.for_job(job_id).root

    def __call__(self, key: str) -> str:
        return self.base + quote(key.removeprefix(self.root))


def render(request: Request, record: JobRecord, queue_position: int | None) -> ComparisonPublic:
    """A job as clients see it: its record, with every storage key turned into the URL the API serves it at."""
    file_url = _FileUrls(request, record.id)
    return ComparisonPublic(
        **_shared(record, ComparisonBase),
        queue_position=queue_position,
        results=[_render_result(file_url, result) for result in record.results],
        contact_sheet_url=file_url(record.contact_sheet) if record.contact_sheet else None,
        manifest_url=file_url(record.manifest) if record.manifest else None,
        sweep=_render_sweep(file_url, record.sweep) if record.sweep is not None else None,
        charts={name: file_url(key) for name, key in record.charts.items()},
        links=ComparisonLinks(
            self=str(request.url_for("get_comparison", job_id=record.id)),
            cancel=str(request.url_for("cancel_comparison", job_id=record.id)),
        ),
    )


def _shared(model: BaseModel, base: type[BaseModel]) -> dict[str, Any]:
    """The values of `model`'s fields that it inherits from `base`, for the public model derived from `base`."""
    return {name: getattr(model, name) for name in base.model_fields}


def render_event(file_url: _FileUrls, event: JobEvent) -> str:
    """An event's data as clients see it (JSON): storage keys become URLs, as in status responses."""
    if event.type is JobEventType.step:
        step = StepRecord.model_validate(event.data)
        public = StepEventPublic(**step.model_dump(exclude={"frames"}), frames=[file_url(key) for key in step.frames])
        return public.model_dump_json()
    if event.type is JobEventType.scheduler_done:
        result = SchedulerResult.model_validate(event.data)
        rendered = _render_result(file_url, result)
        return SchedulerDoneEventPublic(**rendered.model_dump(), scheduler_index=result.index).model_dump_json()
    data = dict(event.data)
    for key in ("contact_sheet", "manifest"):
        if key in data:
            value = data.pop(key)
            data[f"{key}_url"] = file_url(value) if value else None
    if "charts" in data:
        data["charts"] = {name: file_url(key) for name, key in json.loads(data["charts"]).items()}
    return json.dumps(data)


def file_urls(request: Request, job_id: str) -> _FileUrls:
    return _FileUrls(request, job_id)


def _render_result(file_url: _FileUrls, result: SchedulerResult) -> SchedulerResultPublic:
    return SchedulerResultPublic(
        **_shared(result, SchedulerResultBase),
        scheduler=result.name,
        status=result.status,
        final_images=[file_url(key) for key in result.final_images],
        frames=[
            FrameLink(step=frame.step, image_index=frame.image_index, url=file_url(frame.key))
            for frame in result.frames
        ],
        grid_url=file_url(result.grid) if result.grid else None,
    )


def _render_sweep(file_url: _FileUrls, sweep: SweepAnswer) -> SweepPublic:
    return SweepPublic(
        **_shared(sweep, SweepAnswerBase),
        grids=[GridLink(**_shared(grid, GridPageBase), url=file_url(grid.key)) for grid in sweep.grids],
        plot_url=file_url(sweep.plot) if sweep.plot else None,
        answer_url=file_url(sweep.answer),
    )
