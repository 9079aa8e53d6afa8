from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.comfy_ui_sampler_config import ComfyUISamplerConfig





T = TypeVar("T", bound="ComfyUISampler")



@_attrs_define
class ComfyUISampler:
    """ A ComfyUI sampler name: the registry entry it runs, plus config that entry needs for it.

        Attributes:
            entry (str):
            config (ComfyUISamplerConfig | Unset):
     """

    entry: str
    config: ComfyUISamplerConfig | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.comfy_ui_sampler_config import ComfyUISamplerConfig # noqa: PLC0415
        entry = self.entry

        config: dict[str, Any] | Unset = UNSET
        if not isinstance(self.config, Unset):
            config = self.config.to_dict()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "entry": entry,
        })
        if config is not UNSET:
            field_dict["config"] = config

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.comfy_ui_sampler_config import ComfyUISamplerConfig # noqa: PLC0415
        d = dict(src_dict)
        entry = d.pop("entry")

        _config = d.pop("config", UNSET)
        config: ComfyUISamplerConfig | Unset
        if isinstance(_config,  Unset):
            config = UNSET
        else:
            config = ComfyUISamplerConfig.from_dict(_config)




        comfy_ui_sampler = cls(
            entry=entry,
            config=config,
        )


        comfy_ui_sampler.additional_properties = d
        return comfy_ui_sampler

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
