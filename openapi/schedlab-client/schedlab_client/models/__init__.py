""" Contains all the data models used in inputs/outputs """

from .budget_ranking import BudgetRanking
from .budget_ranking_ranking_item import BudgetRankingRankingItem
from .capture import Capture
from .catalog_entry import CatalogEntry
from .catalog_entry_config_keys import CatalogEntryConfigKeys
from .catalog_entry_pipeline_config import CatalogEntryPipelineConfig
from .catalog_entry_preset_config import CatalogEntryPresetConfig
from .cell_label import CellLabel
from .comfy_ui_sampler import ComfyUISampler
from .comfy_ui_sampler_config import ComfyUISamplerConfig
from .comparison_estimate import ComparisonEstimate
from .comparison_estimate_estimated_by_type_0 import ComparisonEstimateEstimatedByType0
from .comparison_estimate_reference_type_0 import ComparisonEstimateReferenceType0
from .comparison_links import ComparisonLinks
from .comparison_public import ComparisonPublic
from .comparison_public_charts import ComparisonPublicCharts
from .comparison_spec import ComparisonSpec
from .comparisons_public import ComparisonsPublic
from .config_key import ConfigKey
from .config_key_type import ConfigKeyType
from .cost_model import CostModel
from .curve_point import CurvePoint
from .decoder import Decoder
from .error_curve import ErrorCurve
from .execution import Execution
from .frame_kind import FrameKind
from .frame_link import FrameLink
from .grid_link import GridLink
from .health import Health
from .invalid_param import InvalidParam
from .job_progress import JobProgress
from .job_status import JobStatus
from .job_work import JobWork
from .job_work_tick_batch_sizes import JobWorkTickBatchSizes
from .model_info import ModelInfo
from .model_public import ModelPublic
from .models_public import ModelsPublic
from .problem import Problem
from .readiness import Readiness
from .reference import Reference
from .reference_distance import ReferenceDistance
from .schedule_type import ScheduleType
from .schedule_type_config import ScheduleTypeConfig
from .schedule_type_config_by_class import ScheduleTypeConfigByClass
from .schedule_type_config_by_class_additional_property import ScheduleTypeConfigByClassAdditionalProperty
from .scheduler_choice import SchedulerChoice
from .scheduler_choice_config import SchedulerChoiceConfig
from .scheduler_result_public import SchedulerResultPublic
from .scheduler_result_public_effective_config import SchedulerResultPublicEffectiveConfig
from .scheduler_result_public_quality_type_0 import SchedulerResultPublicQualityType0
from .scheduler_timings import SchedulerTimings
from .schedulers_public import SchedulersPublic
from .schedulers_public_comfyui_samplers import SchedulersPublicComfyuiSamplers
from .schedulers_public_schedules import SchedulersPublicSchedules
from .sweep_cost import SweepCost
from .sweep_public import SweepPublic
from .sweep_public_reference import SweepPublicReference
from .webhook import Webhook
from .webhook_event import WebhookEvent
from .worker_info import WorkerInfo
from .worker_info_model import WorkerInfoModel

__all__ = (
    "BudgetRanking",
    "BudgetRankingRankingItem",
    "Capture",
    "CatalogEntry",
    "CatalogEntryConfigKeys",
    "CatalogEntryPipelineConfig",
    "CatalogEntryPresetConfig",
    "CellLabel",
    "ComfyUISampler",
    "ComfyUISamplerConfig",
    "ComparisonEstimate",
    "ComparisonEstimateEstimatedByType0",
    "ComparisonEstimateReferenceType0",
    "ComparisonLinks",
    "ComparisonPublic",
    "ComparisonPublicCharts",
    "ComparisonSpec",
    "ComparisonsPublic",
    "ConfigKey",
    "ConfigKeyType",
    "CostModel",
    "CurvePoint",
    "Decoder",
    "ErrorCurve",
    "Execution",
    "FrameKind",
    "FrameLink",
    "GridLink",
    "Health",
    "InvalidParam",
    "JobProgress",
    "JobStatus",
    "JobWork",
    "JobWorkTickBatchSizes",
    "ModelInfo",
    "ModelPublic",
    "ModelsPublic",
    "Problem",
    "Readiness",
    "Reference",
    "ReferenceDistance",
    "SchedulerChoice",
    "SchedulerChoiceConfig",
    "SchedulerResultPublic",
    "SchedulerResultPublicEffectiveConfig",
    "SchedulerResultPublicQualityType0",
    "SchedulersPublic",
    "SchedulersPublicComfyuiSamplers",
    "SchedulersPublicSchedules",
    "SchedulerTimings",
    "ScheduleType",
    "ScheduleTypeConfig",
    "ScheduleTypeConfigByClass",
    "ScheduleTypeConfigByClassAdditionalProperty",
    "SweepCost",
    "SweepPublic",
    "SweepPublicReference",
    "Webhook",
    "WebhookEvent",
    "WorkerInfo",
    "WorkerInfoModel",
)
