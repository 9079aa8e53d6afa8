from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.scheduler_choice_config import SchedulerChoiceConfig





T = TypeVar("T", bound="SchedulerChoice")



@_attrs_define
class SchedulerChoice:
    """ One scheduler to run: any registry id, class name, alias or preset, plus config overrides.

        Attributes:
            name (str):
            config (SchedulerChoiceConfig | Unset): Scheduler config overrides; see GET /v1/schedulers for allowed keys.
     """

    name: str
    config: SchedulerChoiceConfig | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        from ..models.scheduler_choice_config import SchedulerChoiceConfig # noqa: PLC0415
        name = self.name

        config: dict[str, Any] | Unset = UNSET
        if not isinstance(self.config, Unset):
            config = self.config.to_dict()


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "name": name,
        })
        if config is not UNSET:
            field_dict["config"] = config

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.scheduler_choice_config import SchedulerChoiceConfig # noqa: PLC0415
        d = dict(src_dict)
        name = d.pop("name")

        _config = d.pop("config", UNSET)
        config: SchedulerChoiceConfig | Unset
        if isinstance(_config,  Unset):
            config = UNSET
        else:
            config = SchedulerChoiceConfig.from_dict(_config)




        scheduler_choice = cls(
            name=name,
            config=config,
        )

        return scheduler_choice

