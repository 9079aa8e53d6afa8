from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset






T = TypeVar("T", bound="ModelInfo")



@_attrs_define
class ModelInfo:
    """ A served model as workers register it: what a spec's `model` names, and the rules its specs must pass.

        Attributes:
            default_size (int):
            family (str): sd (1.x/2.x), sdxl, sd3 or flux.
            id (str): The model's id in manifests (Hub id or schedlab/tiny-*).
            name (str): The name specs use in `model` (the workers' SCHEDLAB_MODEL).
            pipeline (str):
            prediction_type (str): epsilon, v_prediction or flow.
            size_multiple (int):
            takes_negative_prompt (bool | Unset):  Default: True.
     """

    default_size: int
    family: str
    id: str
    name: str
    pipeline: str
    prediction_type: str
    size_multiple: int
    takes_negative_prompt: bool | Unset = True
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        default_size = self.default_size

        family = self.family

        id = self.id

        name = self.name

        pipeline = self.pipeline

        prediction_type = self.prediction_type

        size_multiple = self.size_multiple

        takes_negative_prompt = self.takes_negative_prompt


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "default_size": default_size,
            "family": family,
            "id": id,
            "name": name,
            "pipeline": pipeline,
            "prediction_type": prediction_type,
            "size_multiple": size_multiple,
        })
        if takes_negative_prompt is not UNSET:
            field_dict["takes_negative_prompt"] = takes_negative_prompt

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        default_size = d.pop("default_size")

        family = d.pop("family")

        id = d.pop("id")

        name = d.pop("name")

        pipeline = d.pop("pipeline")

        prediction_type = d.pop("prediction_type")

        size_multiple = d.pop("size_multiple")

        takes_negative_prompt = d.pop("takes_negative_prompt", UNSET)

        model_info = cls(
            default_size=default_size,
            family=family,
            id=id,
            name=name,
            pipeline=pipeline,
            prediction_type=prediction_type,
            size_multiple=size_multiple,
            takes_negative_prompt=takes_negative_prompt,
        )


        model_info.additional_properties = d
        return model_info

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
