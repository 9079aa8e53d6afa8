"""The contract the API and the worker share, torch-free: the API checks requests by exactly the rules the worker
runs by, without importing torch, diffusers or any module of `worker/`.

- `spec`: the comparison spec and its bounds; the sweep cells it expands to.
- `limits`: deployment caps, `check_spec` and the cost of a job.
- `plan`: what `check_spec` returns: every scheduler resolved once, every run of the job.
- `cost`: what a job does on a worker (`job_work`) and the cost model workers fit to price it.
- `catalog`: the scheduler catalog (generated from the worker's registry) and the names users type.
- `status`: a job's status, progress and event records.
- `results`: what a comparison produces (storage keys, never image bytes).
- `storage_layout`: where its files go.

Both sides import these names from `service.contract`.
"""

from __future__ import annotations

from service.contract.catalog import (
    Catalog,
    CatalogEntry,
    ComfyUISampler,
    ConfigKey,
    JsonKind,
    ModelInfo,
    ScheduleType,
    load_catalog,
    normalize_name,
)
from service.contract.cost import (
    CostModel,
    JobWork,
    fit_cost_model,
    job_work,
)
from service.contract.limits import (
    Limits,
    SweepCost,
    check_spec,
    sweep_cost,
)
from service.contract.plan import (
    JobPlan,
    PlannedRun,
    PlannedScheduler,
    plan_job,
)
from service.contract.results import (
    BudgetRanking,
    CurvePoint,
    ErrorCurve,
    FrameRef,
    GridPage,
    GridPageBase,
    ReferenceDistance,
    SchedulerResult,
    SchedulerResultBase,
    SchedulerTimings,
    SweepAnswer,
    SweepAnswerBase,
)
from service.contract.spec import (
    MAX_IMAGES,
    MAX_STEPS,
    SPEC_DEFAULTS,
    Capture,
    Cell,
    CellLabel,
    ComparisonSpec,
    Decoder,
    Execution,
    FrameKind,
    Reference,
    SchedulerChoice,
    Webhook,
    WebhookEvent,
    format_axis_value,
)
from service.contract.status import (
    JobEventType,
    JobProgress,
    JobStatus,
    StepRecord,
    progress_plan,
    utcnow,
)
from service.contract.storage_layout import (
    StorageLayout,
)

__all__ = [
    "MAX_IMAGES",
    "MAX_STEPS",
    "SPEC_DEFAULTS",
    "BudgetRanking",
    "Capture",
    "Catalog",
    "CatalogEntry",
    "Cell",
    "CellLabel",
    "ComfyUISampler",
    "ComparisonSpec",
    "ConfigKey",
    "CostModel",
    "CurvePoint",
    "Decoder",
    "ErrorCurve",
    "Execution",
    "FrameKind",
    "FrameRef",
    "GridPage",
    "GridPageBase",
    "JobEventType",
    "JobPlan",
    "JobProgress",
    "JobStatus",
    "JobWork",
    "JsonKind",
    "Limits",
    "ModelInfo",
    "PlannedRun",
    "PlannedScheduler",
    "Reference",
    "ReferenceDistance",
    "ScheduleType",
    "SchedulerChoice",
    "SchedulerResult",
    "SchedulerResultBase",
    "SchedulerTimings",
    "StepRecord",
    "StorageLayout",
    "SweepAnswer",
    "SweepAnswerBase",
    "SweepCost",
    "Webhook",
    "WebhookEvent",
    "check_spec",
    "fit_cost_model",
    "format_axis_value",
    "job_work",
    "load_catalog",
    "normalize_name",
    "plan_job",
    "progress_plan",
    "sweep_cost",
    "utcnow",
]
