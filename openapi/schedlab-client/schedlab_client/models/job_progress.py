from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="JobProgress")



@_attrs_define
class JobProgress:
    """ 
        Attributes:
            scheduler (str):
            scheduler_index (int):
            steps_done (int):
            steps_total (int):
     """

    scheduler: str
    scheduler_index: int
    steps_done: int
    steps_total: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        scheduler = self.scheduler

        scheduler_index = self.scheduler_index

        steps_done = self.steps_done

        steps_total = self.steps_total


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "scheduler": scheduler,
            "scheduler_index": scheduler_index,
            "steps_done": steps_done,
            "steps_total": steps_total,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        scheduler = d.pop("scheduler")

        scheduler_index = d.pop("scheduler_index")

        steps_done = d.pop("steps_done")

        steps_total = d.pop("steps_total")

        job_progress = cls(
            scheduler=scheduler,
            scheduler_index=scheduler_index,
            steps_done=steps_done,
            steps_total=steps_total,
        )


        job_progress.additional_properties = d
        return job_progress

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
