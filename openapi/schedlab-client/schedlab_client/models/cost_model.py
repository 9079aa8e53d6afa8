from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="CostModel")



@_attrs_define
class CostModel:
    """ A worker's running time for a job: seconds per UNet call, per sample in a call and per decoded image.

    Fitted by the worker to its own warm-up runs and jobs (whole runs: frames and storage included), so it prices
    what a job costs on that worker's model, device and storage.

        Attributes:
            max_batch (int): The most samples this worker puts in one UNet call.
            runs_fitted (int): How many measured runs (warm-up and jobs) the fit is from.
            seconds_per_decoded_image (float): A VAE decode of one image, its PNG and its storage.
            seconds_per_sample (float): The cost of one more sample in a UNet call.
            seconds_per_unet_call (float): The fixed cost of a UNet forward pass, whatever its batch.
     """

    max_batch: int
    runs_fitted: int
    seconds_per_decoded_image: float
    seconds_per_sample: float
    seconds_per_unet_call: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        max_batch = self.max_batch

        runs_fitted = self.runs_fitted

        seconds_per_decoded_image = self.seconds_per_decoded_image

        seconds_per_sample = self.seconds_per_sample

        seconds_per_unet_call = self.seconds_per_unet_call


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "max_batch": max_batch,
            "runs_fitted": runs_fitted,
            "seconds_per_decoded_image": seconds_per_decoded_image,
            "seconds_per_sample": seconds_per_sample,
            "seconds_per_unet_call": seconds_per_unet_call,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        max_batch = d.pop("max_batch")

        runs_fitted = d.pop("runs_fitted")

        seconds_per_decoded_image = d.pop("seconds_per_decoded_image")

        seconds_per_sample = d.pop("seconds_per_sample")

        seconds_per_unet_call = d.pop("seconds_per_unet_call")

        cost_model = cls(
            max_batch=max_batch,
            runs_fitted=runs_fitted,
            seconds_per_decoded_image=seconds_per_decoded_image,
            seconds_per_sample=seconds_per_sample,
            seconds_per_unet_call=seconds_per_unet_call,
        )


        cost_model.additional_properties = d
        return cost_model

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
