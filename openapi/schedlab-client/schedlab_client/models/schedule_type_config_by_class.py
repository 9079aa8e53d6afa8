from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.schedule_type_config_by_class_additional_property import ScheduleTypeConfigByClassAdditionalProperty





T = TypeVar("T", bound="ScheduleTypeConfigByClass")



@_attrs_define
class ScheduleTypeConfigByClass:
    """ Class-specific overrides where a class spells the schedule otherwise.

     """

    additional_properties: dict[str, ScheduleTypeConfigByClassAdditionalProperty] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.schedule_type_config_by_class_additional_property import ScheduleTypeConfigByClassAdditionalProperty # noqa: PLC0415
        
        field_dict: dict[str, Any] = {}
        for prop_name, prop in self.additional_properties.items():
            field_dict[prop_name] = prop.to_dict()


        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.schedule_type_config_by_class_additional_property import ScheduleTypeConfigByClassAdditionalProperty # noqa: PLC0415
        d = dict(src_dict)
        schedule_type_config_by_class = cls(
        )


        additional_properties = {}
        for prop_name, prop_dict in d.items():
            additional_property = ScheduleTypeConfigByClassAdditionalProperty.from_dict(prop_dict)



            additional_properties[prop_name] = additional_property

        schedule_type_config_by_class.additional_properties = additional_properties
        return schedule_type_config_by_class

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> ScheduleTypeConfigByClassAdditionalProperty:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: ScheduleTypeConfigByClassAdditionalProperty) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
