from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.curve_point import CurvePoint





T = TypeVar("T", bound="ErrorCurve")



@_attrs_define
class ErrorCurve:
    """ One scheduler's distance to the reference against UNet evaluations, at one guidance scale.

        Attributes:
            cheapest_within_tolerance (CurvePoint | None): The fewest-evaluation point whose image distance is within the
                reference's tolerance.
            guidance_scale (float):
            points (list[CurvePoint]):
            scheduler (str):
            scheduler_index (int):
            stochastic (bool):
     """

    cheapest_within_tolerance: CurvePoint | None
    guidance_scale: float
    points: list[CurvePoint]
    scheduler: str
    scheduler_index: int
    stochastic: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.curve_point import CurvePoint # noqa: PLC0415
        cheapest_within_tolerance: dict[str, Any] | None
        if isinstance(self.cheapest_within_tolerance, CurvePoint):
            cheapest_within_tolerance = self.cheapest_within_tolerance.to_dict()
        else:
            cheapest_within_tolerance = self.cheapest_within_tolerance

        guidance_scale = self.guidance_scale

        points = []
        for points_item_data in self.points:
            points_item = points_item_data.to_dict()
            points.append(points_item)



        scheduler = self.scheduler

        scheduler_index = self.scheduler_index

        stochastic = self.stochastic


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "cheapest_within_tolerance": cheapest_within_tolerance,
            "guidance_scale": guidance_scale,
            "points": points,
            "scheduler": scheduler,
            "scheduler_index": scheduler_index,
            "stochastic": stochastic,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.curve_point import CurvePoint # noqa: PLC0415
        d = dict(src_dict)
        def _parse_cheapest_within_tolerance(data: object) -> CurvePoint | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                cheapest_within_tolerance_type_0 = CurvePoint.from_dict(data)



                return cheapest_within_tolerance_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CurvePoint | None, data)

        cheapest_within_tolerance = _parse_cheapest_within_tolerance(d.pop("cheapest_within_tolerance"))


        guidance_scale = d.pop("guidance_scale")

        points = []
        _points = d.pop("points")
        for points_item_data in (_points):
            points_item = CurvePoint.from_dict(points_item_data)



            points.append(points_item)


        scheduler = d.pop("scheduler")

        scheduler_index = d.pop("scheduler_index")

        stochastic = d.pop("stochastic")

        error_curve = cls(
            cheapest_within_tolerance=cheapest_within_tolerance,
            guidance_scale=guidance_scale,
            points=points,
            scheduler=scheduler,
            scheduler_index=scheduler_index,
            stochastic=stochastic,
        )


        error_curve.additional_properties = d
        return error_curve

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
