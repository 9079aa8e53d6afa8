from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.schedule_type import ScheduleType





T = TypeVar("T", bound="SchedulersPublicSchedules")



@_attrs_define
class SchedulersPublicSchedules:
    """ Schedule types (A1111's 'Schedule type', ComfyUI's 'scheduler'): append one to a sampler's name, e.g. 'dpmpp_2m
    karras'.

     """

    additional_properties: dict[str, ScheduleType] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.schedule_type import ScheduleType # noqa: PLC0415
        
        field_dict: dict[str, Any] = {}
        for prop_name, prop in self.additional_properties.items():
            field_dict[prop_name] = prop.to_dict()


        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.schedule_type import ScheduleType # noqa: PLC0415
        d = dict(src_dict)
        schedulers_public_schedules = cls(
        )


        from ..models.schedule_type_config import ScheduleTypeConfig # noqa: PLC0415
        from ..models.schedule_type_config_by_class import ScheduleTypeConfigByClass # noqa: PLC0415
        additional_properties = {}
        for prop_name, prop_dict in d.items():
            additional_property = ScheduleType.from_dict(prop_dict)



            additional_properties[prop_name] = additional_property

        schedulers_public_schedules.additional_properties = additional_properties
        return schedulers_public_schedules

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> ScheduleType:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: ScheduleType) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
