from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.config_key_type import ConfigKeyType
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="ConfigKey")



@_attrs_define
class ConfigKey:
    """ One overridable scheduler config key, described from the scheduler class's signature.

        Attributes:
            type_ (ConfigKeyType):
            choices (list[str] | None | Unset):
            default (Any | Unset):
            nullable (bool | Unset):  Default: False.
     """

    type_: ConfigKeyType
    choices: list[str] | None | Unset = UNSET
    default: Any | Unset = UNSET
    nullable: bool | Unset = False
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_.value

        choices: list[str] | None | Unset
        if isinstance(self.choices, Unset):
            choices = UNSET
        elif isinstance(self.choices, list):
            choices = self.choices


        else:
            choices = self.choices

        default = self.default

        nullable = self.nullable


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "type": type_,
        })
        if choices is not UNSET:
            field_dict["choices"] = choices
        if default is not UNSET:
            field_dict["default"] = default
        if nullable is not UNSET:
            field_dict["nullable"] = nullable

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        type_ = ConfigKeyType(d.pop("type"))




        def _parse_choices(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                choices_type_0 = cast(list[str], data)

                return choices_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        choices = _parse_choices(d.pop("choices", UNSET))


        default = d.pop("default", UNSET)

        nullable = d.pop("nullable", UNSET)

        config_key = cls(
            type_=type_,
            choices=choices,
            default=default,
            nullable=nullable,
        )


        config_key.additional_properties = d
        return config_key

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
