from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="SweepCost")



@_attrs_define
class SweepCost:
    """ What a job will spend, known before it runs.

        Attributes:
            cells (int): (steps, guidance_scale, seed) combinations.
            reference_evaluations (int): The reference runs' share of `unet_evaluations`.
            runs (int): cells x schedulers, plus one reference run per (guidance_scale, seed).
            unet_evaluations (int): Image x UNet evaluations of the whole job, the reference's included.
     """

    cells: int
    reference_evaluations: int
    runs: int
    unet_evaluations: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        cells = self.cells

        reference_evaluations = self.reference_evaluations

        runs = self.runs

        unet_evaluations = self.unet_evaluations


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "cells": cells,
            "reference_evaluations": reference_evaluations,
            "runs": runs,
            "unet_evaluations": unet_evaluations,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        cells = d.pop("cells")

        reference_evaluations = d.pop("reference_evaluations")

        runs = d.pop("runs")

        unet_evaluations = d.pop("unet_evaluations")

        sweep_cost = cls(
            cells=cells,
            reference_evaluations=reference_evaluations,
            runs=runs,
            unet_evaluations=unet_evaluations,
        )


        sweep_cost.additional_properties = d
        return sweep_cost

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
