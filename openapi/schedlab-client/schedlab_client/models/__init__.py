""" Contains all the data models used in inputs/outputs """

from .capture import Capture
from .catalog_entry import CatalogEntry
from .catalog_entry_config_keys import CatalogEntryConfigKeys
from .catalog_entry_pipeline_config import CatalogEntryPipelineConfig
from .catalog_entry_preset_config import CatalogEntryPresetConfig
from .comfy_ui_sampler import ComfyUISampler
from .comfy_ui_sampler_config import ComfyUISamplerConfig
from .comparison_links import ComparisonLinks
from .comparison_public import ComparisonPublic
from .comparison_public_charts import ComparisonPublicCharts
from .comparison_spec import ComparisonSpec
from .comparisons_public import ComparisonsPublic
from .config_key import ConfigKey
from .config_key_type import ConfigKeyType
from .decoder import Decoder
from .execution import Execution
from .frame_kind import FrameKind
from .frame_link import FrameLink
from .health import Health
from .invalid_param import InvalidParam
from .job_progress import JobProgress
from .job_status import JobStatus
from .model_info import ModelInfo
from .model_public import ModelPublic
from .models_public import ModelsPublic
from .problem import Problem
from .readiness import Readiness
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
from .webhook import Webhook
from .webhook_event import WebhookEvent
from .worker_info import WorkerInfo
from .worker_info_model import WorkerInfoModel

__all__ = (
    "Capture",
    "CatalogEntry",
    "CatalogEntryConfigKeys",
    "CatalogEntryPipelineConfig",
    "CatalogEntryPresetConfig",
    "ComfyUISampler",
    "ComfyUISamplerConfig",
    "ComparisonLinks",
    "ComparisonPublic",
    "ComparisonPublicCharts",
    "ComparisonSpec",
    "ComparisonsPublic",
    "ConfigKey",
    "ConfigKeyType",
    "Decoder",
    "Execution",
    "FrameKind",
    "FrameLink",
    "Health",
    "InvalidParam",
    "JobProgress",
    "JobStatus",
    "ModelInfo",
    "ModelPublic",
    "ModelsPublic",
    "Problem",
    "Readiness",
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
    "Webhook",
    "WebhookEvent",
    "WorkerInfo",
    "WorkerInfoModel",
)
