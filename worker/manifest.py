"""A comparison's manifest (`manifest.json`): everything needed to reproduce and read the run, as typed records.

The engine fills one `Manifest` per job and the `ResultWriter` stores it; the viewer, `schedlab submit` and API
clients read its JSON, so field names and order are part of the contract.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from importlib import metadata
from typing import Any

import torch
from PIL import Image
from pydantic import BaseModel

import service
from service.contract import ComparisonSpec, JobStatus, SchedulerResult, SweepAnswer
from worker import scheduler_metrics as metrics
from worker.model import ApproxProjection


class ResolvedSize(BaseModel):
    height: int
    width: int
    capture_steps: list[int]
    cells: int


class SeedRule(BaseModel):
    images: list[int]
    rule: str = (
        "image i of every scheduler (and cell): torch.Generator('cpu').manual_seed(seed + i); "
        "DPMSolverSDE: noise_sampler_seed = seed unless configured"
    )

    @classmethod
    def of(cls, spec: ComparisonSpec) -> SeedRule:
        return cls(images=[seed + i for seed in spec.seed_values for i in range(spec.num_images)])


class ApproxProjectionRecord(BaseModel):
    matrix: list[list[float]]
    bias: list[float]
    source: str

    @classmethod
    def of(cls, approx: ApproxProjection) -> ApproxProjectionRecord:
        return cls(matrix=approx.matrix, bias=approx.bias, source=approx.source)


class Versions(BaseModel):
    python: str
    torch: str
    diffusers: str
    transformers: str

    @classmethod
    def installed(cls) -> Versions:
        return cls(
            python=platform.python_version(),
            torch=torch.__version__,
            diffusers=metadata.version("diffusers"),
            transformers=metadata.version("transformers"),
        )


class ConvergenceRule(BaseModel):
    distance: str = "mean over images of ||x0_pred(step) - final_latent|| / ||final_latent||"
    emergence_threshold: float = metrics.EMERGENCE_THRESHOLD


class Similarity(BaseModel):
    metric: str = metrics.SIMILARITY_RULE
    schedulers: list[str]
    matrix: list[list[float | None]]

    @classmethod
    def of(cls, results: Sequence[SchedulerResult], finals: Sequence[Sequence[Image.Image]]) -> Similarity:
        """Of the succeeded schedulers' final images (none for a sweep: its cells are compared to the reference)."""
        return cls(
            schedulers=[r.id if r.name == r.id else r.name for r in results if r.status == "succeeded"],
            matrix=metrics.similarity_matrix(finals) if finals else [],
        )


class ReferenceRun(BaseModel):
    """One reference run: a guidance scale and seed's solution, which that group's cells are measured against."""

    guidance_scale: float
    seed: int
    final_images: list[str]
    unet_calls: int
    wall_s: float


class ReferenceRecord(BaseModel):
    scheduler: str
    steps: int
    tolerance: float
    default: bool
    why: str = (
        "a deterministic high-order solver at many steps approximates the probability-flow ODE's solution from each "
        "seed's noise; every cell's final latent and image are measured against it"
    )
    runs: list[ReferenceRun]

    @classmethod
    def of(cls, spec: ComparisonSpec, runs: list[ReferenceRun]) -> ReferenceRecord | None:
        reference = spec.resolved_reference()
        if reference is None:
            return None
        return cls(**reference.model_dump(mode="json"), default=spec.reference is None, runs=runs)


class Manifest(BaseModel):
    schedlab_version: str = service.__version__
    status: JobStatus
    started_at: str  # ISO 8601, as `datetime.isoformat` writes it
    finished_at: str
    spec: dict[str, Any]  # the spec as submitted, without its webhook
    resolved: ResolvedSize
    seeds: SeedRule
    model: dict[str, Any]  # `LoadedModel.describe`: its keys depend on the model family
    approx_projection: ApproxProjectionRecord
    versions: Versions
    convergence: ConvergenceRule = ConvergenceRule()
    similarity: Similarity
    contact_sheet: str | None
    execution: dict[str, Any]  # how the runs were executed: its keys depend on the mode
    peak_memory_bytes: int | None
    schedulers: list[SchedulerResult]
    reference: ReferenceRecord | None
    sweep: SweepAnswer | None
    charts: dict[str, str]  # chart name -> storage key

    def to_json(self) -> bytes:
        # json.dumps, as manifests have always been written: ASCII-escaped, Python's float spelling.
        return json.dumps(self.model_dump(mode="json"), indent=2).encode()
