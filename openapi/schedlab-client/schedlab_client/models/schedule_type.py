from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.schedule_type_config import ScheduleTypeConfig
  from ..models.schedule_type_config_by_class import ScheduleTypeConfigByClass





T = TypeVar("T", bound="ScheduleType")



@_attrs_define
class ScheduleType:
    """ A sigma schedule as A1111 ("Schedule type") and ComfyUI ("scheduler") name it, as config overrides.

        Attributes:
            names (list[str]): Spellings users type: ComfyUI's name first, then A1111's.
            config (ScheduleTypeConfig | Unset): Overrides for any scheduler class.
            config_by_class (ScheduleTypeConfigByClass | Unset): Class-specific overrides where a class spells the schedule
                otherwise.
            description (str | Unset):  Default: ''.
            unsupported_reason (None | str | Unset): Why diffusers cannot express it as a config.
     """

    names: list[str]
    config: ScheduleTypeConfig | Unset = UNSET
    config_by_class: ScheduleTypeConfigByClass | Unset = UNSET
    description: str | Unset = ''
    unsupported_reason: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.schedule_type_config import ScheduleTypeConfig # noqa: PLC0415
        from ..models.schedule_type_config_by_class import ScheduleTypeConfigByClass # noqa: PLC0415
        names = self.names



        config: dict[str, Any] | Unset = UNSET
        if not isinstance(self.config, Unset):
            config = self.config.to_dict()

        config_by_class: dict[str, Any] | Unset = UNSET
        if not isinstance(self.config_by_class, Unset):
            config_by_class = self.config_by_class.to_dict()

        description = self.description

        unsupported_reason: None | str | Unset
        if isinstance(self.unsupported_reason, Unset):
            unsupported_reason = UNSET
        else:
            unsupported_reason = self.unsupported_reason


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "names": names,
        })
        if config is not UNSET:
            field_dict["config"] = config
        if config_by_class is not UNSET:
            field_dict["config_by_class"] = config_by_class
        if description is not UNSET:
            field_dict["description"] = description
        if unsupported_reason is not UNSET:
            field_dict["unsupported_reason"] = unsupported_reason

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.schedule_type_config import ScheduleTypeConfig # noqa: PLC0415
        from ..models.schedule_type_config_by_class import ScheduleTypeConfigByClass # noqa: PLC0415
        d = dict(src_dict)
        names = cast(list[str], d.pop("names"))


        _config = d.pop("config", UNSET)
        config: ScheduleTypeConfig | Unset
        if isinstance(_config,  Unset):
            config = UNSET
        else:
            config = ScheduleTypeConfig.from_dict(_config)




        _config_by_class = d.pop("config_by_class", UNSET)
        config_by_class: ScheduleTypeConfigByClass | Unset
        if isinstance(_config_by_class,  Unset):
            config_by_class = UNSET
        else:
            config_by_class = ScheduleTypeConfigByClass.from_dict(_config_by_class)




        description = d.pop("description", UNSET)

        def _parse_unsupported_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        unsupported_reason = _parse_unsupported_reason(d.pop("unsupported_reason", UNSET))


        schedule_type = cls(
            names=names,
            config=config,
            config_by_class=config_by_class,
            description=description,
            unsupported_reason=unsupported_reason,
        )


        schedule_type.additional_properties = d
        return schedule_type

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
