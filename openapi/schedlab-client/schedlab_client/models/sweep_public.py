from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.budget_ranking import BudgetRanking
  from ..models.error_curve import ErrorCurve
  from ..models.grid_link import GridLink
  from ..models.sweep_public_reference import SweepPublicReference





T = TypeVar("T", bound="SweepPublic")



@_attrs_define
class SweepPublic:
    """ A sweep's answer: error-vs-NFE curves, cheapest cell near the reference, ranking per budget, X/Y grids.

        Attributes:
            answer_url (str):
            curves (list[ErrorCurve]):
            grids (list[GridLink]): x = steps, y = scheduler; one per guidance and seed, maybe paged.
            plot_url (None | str):
            ranking (list[BudgetRanking]):
            reference (SweepPublicReference):
            tolerance (float):
     """

    answer_url: str
    curves: list[ErrorCurve]
    grids: list[GridLink]
    plot_url: None | str
    ranking: list[BudgetRanking]
    reference: SweepPublicReference
    tolerance: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.budget_ranking import BudgetRanking # noqa: PLC0415
        from ..models.error_curve import ErrorCurve # noqa: PLC0415
        from ..models.grid_link import GridLink # noqa: PLC0415
        from ..models.sweep_public_reference import SweepPublicReference # noqa: PLC0415
        answer_url = self.answer_url

        curves = []
        for curves_item_data in self.curves:
            curves_item = curves_item_data.to_dict()
            curves.append(curves_item)



        grids = []
        for grids_item_data in self.grids:
            grids_item = grids_item_data.to_dict()
            grids.append(grids_item)



        plot_url: None | str
        plot_url = self.plot_url

        ranking = []
        for ranking_item_data in self.ranking:
            ranking_item = ranking_item_data.to_dict()
            ranking.append(ranking_item)



        reference = self.reference.to_dict()

        tolerance = self.tolerance


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "answer_url": answer_url,
            "curves": curves,
            "grids": grids,
            "plot_url": plot_url,
            "ranking": ranking,
            "reference": reference,
            "tolerance": tolerance,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.budget_ranking import BudgetRanking # noqa: PLC0415
        from ..models.error_curve import ErrorCurve # noqa: PLC0415
        from ..models.grid_link import GridLink # noqa: PLC0415
        from ..models.sweep_public_reference import SweepPublicReference # noqa: PLC0415
        d = dict(src_dict)
        answer_url = d.pop("answer_url")

        curves = []
        _curves = d.pop("curves")
        for curves_item_data in (_curves):
            curves_item = ErrorCurve.from_dict(curves_item_data)



            curves.append(curves_item)


        grids = []
        _grids = d.pop("grids")
        for grids_item_data in (_grids):
            grids_item = GridLink.from_dict(grids_item_data)



            grids.append(grids_item)


        def _parse_plot_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        plot_url = _parse_plot_url(d.pop("plot_url"))


        ranking = []
        _ranking = d.pop("ranking")
        for ranking_item_data in (_ranking):
            ranking_item = BudgetRanking.from_dict(ranking_item_data)



            ranking.append(ranking_item)


        reference = SweepPublicReference.from_dict(d.pop("reference"))




        tolerance = d.pop("tolerance")

        sweep_public = cls(
            answer_url=answer_url,
            curves=curves,
            grids=grids,
            plot_url=plot_url,
            ranking=ranking,
            reference=reference,
            tolerance=tolerance,
        )


        sweep_public.additional_properties = d
        return sweep_public

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
