from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.cost_model import CostModel
  from ..models.worker_info_model import WorkerInfoModel





T = TypeVar("T", bound="WorkerInfo")



@_attrs_define
class WorkerInfo:
    """ What a live worker publishes with each heartbeat.

        Attributes:
            host (str):
            model (WorkerInfoModel):
            name (str):
            pid (int):
            schedulers (list[str]):
            started_at (datetime.datetime):
            cost_model (CostModel | None | Unset): Seconds per UNet call, per sample and per decoded image, fitted to its
                warm-up and jobs.
            current_job (None | str | Unset):
            evals_per_s (float | None | Unset): Image x UNet evaluations per second measured over warm-up and jobs (whole
                runs).
            jobs_done (int | Unset):  Default: 0.
            serves (None | str | Unset):
     """

    host: str
    model: WorkerInfoModel
    name: str
    pid: int
    schedulers: list[str]
    started_at: datetime.datetime
    cost_model: CostModel | None | Unset = UNSET
    current_job: None | str | Unset = UNSET
    evals_per_s: float | None | Unset = UNSET
    jobs_done: int | Unset = 0
    serves: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.cost_model import CostModel # noqa: PLC0415
        from ..models.worker_info_model import WorkerInfoModel # noqa: PLC0415
        host = self.host

        model = self.model.to_dict()

        name = self.name

        pid = self.pid

        schedulers = self.schedulers



        started_at = self.started_at.isoformat()

        cost_model: dict[str, Any] | None | Unset
        if isinstance(self.cost_model, Unset):
            cost_model = UNSET
        elif isinstance(self.cost_model, CostModel):
            cost_model = self.cost_model.to_dict()
        else:
            cost_model = self.cost_model

        current_job: None | str | Unset
        if isinstance(self.current_job, Unset):
            current_job = UNSET
        else:
            current_job = self.current_job

        evals_per_s: float | None | Unset
        if isinstance(self.evals_per_s, Unset):
            evals_per_s = UNSET
        else:
            evals_per_s = self.evals_per_s

        jobs_done = self.jobs_done

        serves: None | str | Unset
        if isinstance(self.serves, Unset):
            serves = UNSET
        else:
            serves = self.serves


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "host": host,
            "model": model,
            "name": name,
            "pid": pid,
            "schedulers": schedulers,
            "started_at": started_at,
        })
        if cost_model is not UNSET:
            field_dict["cost_model"] = cost_model
        if current_job is not UNSET:
            field_dict["current_job"] = current_job
        if evals_per_s is not UNSET:
            field_dict["evals_per_s"] = evals_per_s
        if jobs_done is not UNSET:
            field_dict["jobs_done"] = jobs_done
        if serves is not UNSET:
            field_dict["serves"] = serves

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.cost_model import CostModel # noqa: PLC0415
        from ..models.worker_info_model import WorkerInfoModel # noqa: PLC0415
        d = dict(src_dict)
        host = d.pop("host")

        model = WorkerInfoModel.from_dict(d.pop("model"))




        name = d.pop("name")

        pid = d.pop("pid")

        schedulers = cast(list[str], d.pop("schedulers"))


        started_at = datetime.datetime.fromisoformat(d.pop("started_at"))




        def _parse_cost_model(data: object) -> CostModel | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                cost_model_type_0 = CostModel.from_dict(data)



                return cost_model_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CostModel | None | Unset, data)

        cost_model = _parse_cost_model(d.pop("cost_model", UNSET))


        def _parse_current_job(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        current_job = _parse_current_job(d.pop("current_job", UNSET))


        def _parse_evals_per_s(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        evals_per_s = _parse_evals_per_s(d.pop("evals_per_s", UNSET))


        jobs_done = d.pop("jobs_done", UNSET)

        def _parse_serves(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        serves = _parse_serves(d.pop("serves", UNSET))


        worker_info = cls(
            host=host,
            model=model,
            name=name,
            pid=pid,
            schedulers=schedulers,
            started_at=started_at,
            cost_model=cost_model,
            current_job=current_job,
            evals_per_s=evals_per_s,
            jobs_done=jobs_done,
            serves=serves,
        )


        worker_info.additional_properties = d
        return worker_info

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
