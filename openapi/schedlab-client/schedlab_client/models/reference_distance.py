from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast






T = TypeVar("T", bound="ReferenceDistance")



@_attrs_define
class ReferenceDistance:
    """ How far a run's final result lies from the reference solution, image i against the reference's image i.

    `latent` and `image` are medians over the cell's images: a seed whose sample flips to another shape or place
    dominates a mean (both are listed per image too).

        Attributes:
            image (float): Median pixel RMSE of the final images to the reference's, pixels in [0, 1].
            image_mean (float): Mean pixel RMSE over the images.
            images (list[float]): Pixel RMSE per image.
            latent (float): Median of ||final latent - reference latent|| / ||reference latent||.
            latents (list[float]): Relative latent distance per image.
     """

    image: float
    image_mean: float
    images: list[float]
    latent: float
    latents: list[float]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        image = self.image

        image_mean = self.image_mean

        images = self.images



        latent = self.latent

        latents = self.latents




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "image": image,
            "image_mean": image_mean,
            "images": images,
            "latent": latent,
            "latents": latents,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        image = d.pop("image")

        image_mean = d.pop("image_mean")

        images = cast(list[float], d.pop("images"))


        latent = d.pop("latent")

        latents = cast(list[float], d.pop("latents"))


        reference_distance = cls(
            image=image,
            image_mean=image_mean,
            images=images,
            latent=latent,
            latents=latents,
        )


        reference_distance.additional_properties = d
        return reference_distance

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
