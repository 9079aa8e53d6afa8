from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.catalog_entry import CatalogEntry
  from ..models.model_info import ModelInfo





T = TypeVar("T", bound="SchedulersPublic")



@_attrs_define
class SchedulersPublic:
    """ 
        Attributes:
            count (int):
            data (list[CatalogEntry]):
            diffusers_version (str):
            model (ModelInfo | None | Unset): With ?model=: the model, as its workers registered it.
     """

    count: int
    data: list[CatalogEntry]
    diffusers_version: str
    model: ModelInfo | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.catalog_entry import CatalogEntry # noqa: PLC0415
        from ..models.model_info import ModelInfo # noqa: PLC0415
        count = self.count

        data = []
        for data_item_data in self.data:
            data_item = data_item_data.to_dict()
            data.append(data_item)



        diffusers_version = self.diffusers_version

        model: dict[str, Any] | None | Unset
        if isinstance(self.model, Unset):
            model = UNSET
        elif isinstance(self.model, ModelInfo):
            model = self.model.to_dict()
        else:
            model = self.model


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "count": count,
            "data": data,
            "diffusers_version": diffusers_version,
        })
        if model is not UNSET:
            field_dict["model"] = model

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.catalog_entry import CatalogEntry # noqa: PLC0415
        from ..models.model_info import ModelInfo # noqa: PLC0415
        d = dict(src_dict)
        count = d.pop("count")

        data = []
        _data = d.pop("data")
        for data_item_data in (_data):
            data_item = CatalogEntry.from_dict(data_item_data)



            data.append(data_item)


        diffusers_version = d.pop("diffusers_version")

        def _parse_model(data: object) -> ModelInfo | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                model_type_0 = ModelInfo.from_dict(data)



                return model_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ModelInfo | None | Unset, data)

        model = _parse_model(d.pop("model", UNSET))


        schedulers_public = cls(
            count=count,
            data=data,
            diffusers_version=diffusers_version,
            model=model,
        )


        schedulers_public.additional_properties = d
        return schedulers_public

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
