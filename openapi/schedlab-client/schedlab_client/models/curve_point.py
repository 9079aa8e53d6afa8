from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="CurvePoint")



@_attrs_define
class CurvePoint:
    """ 
        Attributes:
            image_distance (float): Mean over seeds of each cell's median pixel RMSE (pixels in [0, 1]).
            image_distance_mean (float): Mean over seeds and images of the pixel RMSE.
            latent_distance (float): Mean over seeds of each cell's median relative latent distance.
            nfe (int): UNet evaluations per image (one evaluates both guidance halves).
            steps (int):
     """

    image_distance: float
    image_distance_mean: float
    latent_distance: float
    nfe: int
    steps: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        image_distance = self.image_distance

        image_distance_mean = self.image_distance_mean

        latent_distance = self.latent_distance

        nfe = self.nfe

        steps = self.steps


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "image_distance": image_distance,
            "image_distance_mean": image_distance_mean,
            "latent_distance": latent_distance,
            "nfe": nfe,
            "steps": steps,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        image_distance = d.pop("image_distance")

        image_distance_mean = d.pop("image_distance_mean")

        latent_distance = d.pop("latent_distance")

        nfe = d.pop("nfe")

        steps = d.pop("steps")

        curve_point = cls(
            image_distance=image_distance,
            image_distance_mean=image_distance_mean,
            latent_distance=latent_distance,
            nfe=nfe,
            steps=steps,
        )


        curve_point.additional_properties = d
        return curve_point

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
