from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset






T = TypeVar("T", bound="Reference")



@_attrs_define
class Reference:
    """ The solution every sweep cell is measured against: one deterministic run per seed and guidance scale.

        Attributes:
            scheduler (str | Unset): A deterministic scheduler; default DPM-Solver++ 2M, a high-order solver (on a flow-
                matching model, name a flow solver such as flow_dpmpp_2m, or leave `reference` out for the model's default).
                Default: 'dpmpp_2m'.
            steps (int | Unset):  Default: 100.
            tolerance (float | Unset): A cell is 'within the reference's neighbourhood' when its final images' median pixel
                RMSE (pixels in [0, 1]) to the reference's, averaged over seeds, is at most this. Default: 0.05.
     """

    scheduler: str | Unset = 'dpmpp_2m'
    steps: int | Unset = 100
    tolerance: float | Unset = 0.05





    def to_dict(self) -> dict[str, Any]:
        scheduler = self.scheduler

        steps = self.steps

        tolerance = self.tolerance


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if scheduler is not UNSET:
            field_dict["scheduler"] = scheduler
        if steps is not UNSET:
            field_dict["steps"] = steps
        if tolerance is not UNSET:
            field_dict["tolerance"] = tolerance

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        scheduler = d.pop("scheduler", UNSET)

        steps = d.pop("steps", UNSET)

        tolerance = d.pop("tolerance", UNSET)

        reference = cls(
            scheduler=scheduler,
            steps=steps,
            tolerance=tolerance,
        )

        return reference

