from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="CellLabel")



@_attrs_define
class CellLabel:
    """ Which sweep cell a result belongs to.

        Attributes:
            folder (str): The cell's folder under the job's folder ('' for single-value jobs).
            guidance_scale (float):
            seed (int):
            steps (int):
     """

    folder: str
    guidance_scale: float
    seed: int
    steps: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        folder = self.folder

        guidance_scale = self.guidance_scale

        seed = self.seed

        steps = self.steps


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "folder": folder,
            "guidance_scale": guidance_scale,
            "seed": seed,
            "steps": steps,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        folder = d.pop("folder")

        guidance_scale = d.pop("guidance_scale")

        seed = d.pop("seed")

        steps = d.pop("steps")

        cell_label = cls(
            folder=folder,
            guidance_scale=guidance_scale,
            seed=seed,
            steps=steps,
        )


        cell_label.additional_properties = d
        return cell_label

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
