from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.worker_info import WorkerInfo





T = TypeVar("T", bound="Readiness")



@_attrs_define
class Readiness:
    """ 
        Attributes:
            queue_depth (int | None):
            redis (bool):
            status (str):
            storage (bool):
            workers (list[WorkerInfo]):
     """

    queue_depth: int | None
    redis: bool
    status: str
    storage: bool
    workers: list[WorkerInfo]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.worker_info import WorkerInfo # noqa: PLC0415
        queue_depth: int | None
        queue_depth = self.queue_depth

        redis = self.redis

        status = self.status

        storage = self.storage

        workers = []
        for workers_item_data in self.workers:
            workers_item = workers_item_data.to_dict()
            workers.append(workers_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "queue_depth": queue_depth,
            "redis": redis,
            "status": status,
            "storage": storage,
            "workers": workers,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.worker_info import WorkerInfo # noqa: PLC0415
        d = dict(src_dict)
        def _parse_queue_depth(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        queue_depth = _parse_queue_depth(d.pop("queue_depth"))


        redis = d.pop("redis")

        status = d.pop("status")

        storage = d.pop("storage")

        workers = []
        _workers = d.pop("workers")
        for workers_item_data in (_workers):
            workers_item = WorkerInfo.from_dict(workers_item_data)



            workers.append(workers_item)


        readiness = cls(
            queue_depth=queue_depth,
            redis=redis,
            status=status,
            storage=storage,
            workers=workers,
        )


        readiness.additional_properties = d
        return readiness

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
