from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.budget_ranking_ranking_item import BudgetRankingRankingItem





T = TypeVar("T", bound="BudgetRanking")



@_attrs_define
class BudgetRanking:
    """ At one guidance scale, schedulers ranked by the best distance they reach within `budget` evaluations.

        Attributes:
            budget (int): UNet evaluations per image.
            guidance_scale (float):
            ranking (list[BudgetRankingRankingItem]): Best first: scheduler, scheduler_index, steps, nfe, image_distance,
                latent_distance.
     """

    budget: int
    guidance_scale: float
    ranking: list[BudgetRankingRankingItem]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.budget_ranking_ranking_item import BudgetRankingRankingItem # noqa: PLC0415
        budget = self.budget

        guidance_scale = self.guidance_scale

        ranking = []
        for ranking_item_data in self.ranking:
            ranking_item = ranking_item_data.to_dict()
            ranking.append(ranking_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "budget": budget,
            "guidance_scale": guidance_scale,
            "ranking": ranking,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.budget_ranking_ranking_item import BudgetRankingRankingItem # noqa: PLC0415
        d = dict(src_dict)
        budget = d.pop("budget")

        guidance_scale = d.pop("guidance_scale")

        ranking = []
        _ranking = d.pop("ranking")
        for ranking_item_data in (_ranking):
            ranking_item = BudgetRankingRankingItem.from_dict(ranking_item_data)



            ranking.append(ranking_item)


        budget_ranking = cls(
            budget=budget,
            guidance_scale=guidance_scale,
            ranking=ranking,
        )


        budget_ranking.additional_properties = d
        return budget_ranking

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
