from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.comfy_ui_sampler import ComfyUISampler





T = TypeVar("T", bound="SchedulersPublicComfyuiSamplers")



@_attrs_define
class SchedulersPublicComfyuiSamplers:
    """ ComfyUI sampler names and the entry each runs.

     """

    additional_properties: dict[str, ComfyUISampler] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.comfy_ui_sampler import ComfyUISampler # noqa: PLC0415
        
        field_dict: dict[str, Any] = {}
        for prop_name, prop in self.additional_properties.items():
            field_dict[prop_name] = prop.to_dict()


        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.comfy_ui_sampler import ComfyUISampler # noqa: PLC0415
        d = dict(src_dict)
        schedulers_public_comfyui_samplers = cls(
        )


        from ..models.comfy_ui_sampler_config import ComfyUISamplerConfig # noqa: PLC0415
        additional_properties = {}
        for prop_name, prop_dict in d.items():
            additional_property = ComfyUISampler.from_dict(prop_dict)



            additional_properties[prop_name] = additional_property

        schedulers_public_comfyui_samplers.additional_properties = additional_properties
        return schedulers_public_comfyui_samplers

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> ComfyUISampler:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: ComfyUISampler) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
