from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.catalog_entry_config_keys import CatalogEntryConfigKeys
  from ..models.catalog_entry_pipeline_config import CatalogEntryPipelineConfig
  from ..models.catalog_entry_preset_config import CatalogEntryPresetConfig





T = TypeVar("T", bound="CatalogEntry")



@_attrs_define
class CatalogEntry:
    """ A scheduler or preset as users name it; the torch-free mirror of a worker registry entry.

        Attributes:
            aliases (list[str]):
            available (bool):
            class_name (str):
            config_keys (CatalogEntryConfigKeys):
            display_name (str):
            extra_unet_calls (int): UNet calls beyond steps x unet_calls_per_step: -1 for second-order solvers (their first
                step calls once), +1 for PNDM (it repeats its first timestep).
            id (str):
            order (int):
            preset_config (CatalogEntryPresetConfig):
            stochastic (bool):
            unet_calls_per_step (int): UNet calls per scheduler step (2 for second-order solvers).
            description (str | Unset):  Default: ''.
            differs_from_a1111 (None | str | Unset): Why this A1111/ComfyUI name does not reproduce k-diffusion's sampler
                (see the parity report); null where it matches or has no k-diffusion counterpart.
            pipeline_config (CatalogEntryPipelineConfig | Unset): Pipeline arguments the preset sets, e.g. guidance_rescale.
            unavailable_reason (None | str | Unset):
     """

    aliases: list[str]
    available: bool
    class_name: str
    config_keys: CatalogEntryConfigKeys
    display_name: str
    extra_unet_calls: int
    id: str
    order: int
    preset_config: CatalogEntryPresetConfig
    stochastic: bool
    unet_calls_per_step: int
    description: str | Unset = ''
    differs_from_a1111: None | str | Unset = UNSET
    pipeline_config: CatalogEntryPipelineConfig | Unset = UNSET
    unavailable_reason: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.catalog_entry_config_keys import CatalogEntryConfigKeys # noqa: PLC0415
        from ..models.catalog_entry_pipeline_config import CatalogEntryPipelineConfig # noqa: PLC0415
        from ..models.catalog_entry_preset_config import CatalogEntryPresetConfig # noqa: PLC0415
        aliases = self.aliases



        available = self.available

        class_name = self.class_name

        config_keys = self.config_keys.to_dict()

        display_name = self.display_name

        extra_unet_calls = self.extra_unet_calls

        id = self.id

        order = self.order

        preset_config = self.preset_config.to_dict()

        stochastic = self.stochastic

        unet_calls_per_step = self.unet_calls_per_step

        description = self.description

        differs_from_a1111: None | str | Unset
        if isinstance(self.differs_from_a1111, Unset):
            differs_from_a1111 = UNSET
        else:
            differs_from_a1111 = self.differs_from_a1111

        pipeline_config: dict[str, Any] | Unset = UNSET
        if not isinstance(self.pipeline_config, Unset):
            pipeline_config = self.pipeline_config.to_dict()

        unavailable_reason: None | str | Unset
        if isinstance(self.unavailable_reason, Unset):
            unavailable_reason = UNSET
        else:
            unavailable_reason = self.unavailable_reason


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "aliases": aliases,
            "available": available,
            "class_name": class_name,
            "config_keys": config_keys,
            "display_name": display_name,
            "extra_unet_calls": extra_unet_calls,
            "id": id,
            "order": order,
            "preset_config": preset_config,
            "stochastic": stochastic,
            "unet_calls_per_step": unet_calls_per_step,
        })
        if description is not UNSET:
            field_dict["description"] = description
        if differs_from_a1111 is not UNSET:
            field_dict["differs_from_a1111"] = differs_from_a1111
        if pipeline_config is not UNSET:
            field_dict["pipeline_config"] = pipeline_config
        if unavailable_reason is not UNSET:
            field_dict["unavailable_reason"] = unavailable_reason

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.catalog_entry_config_keys import CatalogEntryConfigKeys # noqa: PLC0415
        from ..models.catalog_entry_pipeline_config import CatalogEntryPipelineConfig # noqa: PLC0415
        from ..models.catalog_entry_preset_config import CatalogEntryPresetConfig # noqa: PLC0415
        d = dict(src_dict)
        aliases = cast(list[str], d.pop("aliases"))


        available = d.pop("available")

        class_name = d.pop("class_name")

        config_keys = CatalogEntryConfigKeys.from_dict(d.pop("config_keys"))




        display_name = d.pop("display_name")

        extra_unet_calls = d.pop("extra_unet_calls")

        id = d.pop("id")

        order = d.pop("order")

        preset_config = CatalogEntryPresetConfig.from_dict(d.pop("preset_config"))




        stochastic = d.pop("stochastic")

        unet_calls_per_step = d.pop("unet_calls_per_step")

        description = d.pop("description", UNSET)

        def _parse_differs_from_a1111(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        differs_from_a1111 = _parse_differs_from_a1111(d.pop("differs_from_a1111", UNSET))


        _pipeline_config = d.pop("pipeline_config", UNSET)
        pipeline_config: CatalogEntryPipelineConfig | Unset
        if isinstance(_pipeline_config,  Unset):
            pipeline_config = UNSET
        else:
            pipeline_config = CatalogEntryPipelineConfig.from_dict(_pipeline_config)




        def _parse_unavailable_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        unavailable_reason = _parse_unavailable_reason(d.pop("unavailable_reason", UNSET))


        catalog_entry = cls(
            aliases=aliases,
            available=available,
            class_name=class_name,
            config_keys=config_keys,
            display_name=display_name,
            extra_unet_calls=extra_unet_calls,
            id=id,
            order=order,
            preset_config=preset_config,
            stochastic=stochastic,
            unet_calls_per_step=unet_calls_per_step,
            description=description,
            differs_from_a1111=differs_from_a1111,
            pipeline_config=pipeline_config,
            unavailable_reason=unavailable_reason,
        )


        catalog_entry.additional_properties = d
        return catalog_entry

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
