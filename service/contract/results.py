"""What a comparison produces, as storage keys (never image bytes): each scheduler's result and a sweep's answer.
The API turns the keys into URLs (`service.api.schemas`)."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    JsonValue,
)

from service.contract.spec import CellLabel


class FrameRef(BaseModel):
    step: int
    image_index: int
    key: str


class SchedulerTimings(BaseModel):
    wall_s: float
    unet_calls: int


class ReferenceDistance(BaseModel):
    """How far a run's final result lies from the reference solution, image i against the reference's image i.

    `latent` and `image` are medians over the cell's images: a seed whose sample flips to another shape or place
    dominates a mean (both are listed per image too).
    """

    latent: float = Field(description="Median of ||final latent - reference latent|| / ||reference latent||.")
    image: float = Field(description="Median pixel RMSE of the final images to the reference's, pixels in [0, 1].")
    image_mean: float = Field(description="Mean pixel RMSE over the images.")
    images: list[float] = Field(description="Pixel RMSE per image.")
    latents: list[float] = Field(description="Relative latent distance per image.")


class SchedulerResultBase(BaseModel):
    """What a scheduler run's stored result and its public form (`SchedulerResultPublic`) both say."""

    id: str = Field(description="The registry entry it resolved to.")
    class_name: str
    stochastic: bool
    effective_config: dict[str, JsonValue]
    seeds: list[int]
    timings: SchedulerTimings
    convergence: list[tuple[int, float]] = Field(
        description="(step, relative latent distance of that step's x0 prediction to the final latent)."
    )
    emergence_step: int | None
    quality: dict[str, float] | None = Field(
        None, description="Demo model only: shares of final images whose colour and shape match the prompt."
    )
    cell: CellLabel | None = Field(None, description="The sweep cell this run belongs to; null for a plain job.")
    reference_distance: ReferenceDistance | None = Field(
        None, description="Distance of the final latents and images to the reference's (same seed and guidance)."
    )


class SchedulerResult(SchedulerResultBase):
    """What one scheduler produced; storage keys only, never image bytes."""

    index: int
    name: str
    folder: str = Field(
        validation_alias=AliasChoices("folder", "key"),  # job records written before the rename call it `key`
        description="The folder of this run's files, a storage key: the job's folder, the cell's, `NN-scheduler`.",
    )
    status: Literal["succeeded", "canceled"]
    final_images: list[str]
    frames: list[FrameRef]
    grid: str | None


class CurvePoint(BaseModel):
    steps: int
    nfe: int = Field(description="UNet evaluations per image (one evaluates both guidance halves).")
    latent_distance: float = Field(description="Mean over seeds of each cell's median relative latent distance.")
    image_distance: float = Field(description="Mean over seeds of each cell's median pixel RMSE (pixels in [0, 1]).")
    image_distance_mean: float = Field(description="Mean over seeds and images of the pixel RMSE.")


class ErrorCurve(BaseModel):
    """One scheduler's distance to the reference against UNet evaluations, at one guidance scale."""

    scheduler_index: int
    scheduler: str
    stochastic: bool
    guidance_scale: float
    points: list[CurvePoint]
    cheapest_within_tolerance: CurvePoint | None = Field(
        description="The fewest-evaluation point whose image distance is within the reference's tolerance."
    )


class BudgetRanking(BaseModel):
    """At one guidance scale, schedulers ranked by the best distance they reach within `budget` evaluations."""

    guidance_scale: float
    budget: int = Field(description="UNet evaluations per image.")
    ranking: list[dict[str, JsonValue]] = Field(
        description="Best first: scheduler, scheduler_index, steps, nfe, image_distance, latent_distance."
    )


class GridPageBase(BaseModel):
    guidance_scale: float
    seed: int
    page: int
    pages: int


class GridPage(GridPageBase):
    key: str


class SweepAnswerBase(BaseModel):
    """What a sweep's stored answer and its public form (`SweepPublic`) both say."""

    reference: dict[str, JsonValue]
    tolerance: float
    curves: list[ErrorCurve]
    ranking: list[BudgetRanking]


class SweepAnswer(SweepAnswerBase):
    """The quality-per-cost answer of a sweep, stored as `sweep/answer.json` and in the job record."""

    grids: list[GridPage]
    plot: str | None = Field(description="Storage key of the error-vs-NFE plot (PNG).")
    answer: str = Field(description="Storage key of this document (JSON).")
