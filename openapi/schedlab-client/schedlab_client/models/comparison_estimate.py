from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.comparison_estimate_estimated_by_type_0 import ComparisonEstimateEstimatedByType0
from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.cell_label import CellLabel
  from ..models.comparison_estimate_reference_type_0 import ComparisonEstimateReferenceType0
  from ..models.cost_model import CostModel
  from ..models.job_work import JobWork
  from ..models.sweep_cost import SweepCost





T = TypeVar("T", bound="ComparisonEstimate")



@_attrs_define
class ComparisonEstimate:
    """ A dry run's answer: nothing was queued.

        Attributes:
            cells (list[CellLabel]): Every (steps, guidance_scale, seed) combination, in run order.
            cost (SweepCost): What a job will spend, known before it runs.
            estimated_seconds (float | None): Running time once a worker takes the job (queue wait not included); null while
                no live worker of its model has measured its throughput.
            evals_per_s (float | None): Image x UNet evaluations per second: the median of the measured throughput of the
                live workers serving the job's model.
            model (str): The model the job runs on: only the workers serving it price the job.
            reference (ComparisonEstimateReferenceType0 | None): The reference the sweep is measured against.
            schedulers (int):
            workers_measured (int): Live workers serving the job's model that have measured throughput.
            cost_model (CostModel | None | Unset): That worker's cost model.
            estimated_by (ComparisonEstimateEstimatedByType0 | None | Unset): cost_model: the median of the workers' cost
                models applied to the job's work; throughput: UNet evaluations / evals_per_s (no worker published a cost model);
                null: no estimate.
            queued (bool | Unset): Always false: a dry run queues nothing. Default: False.
            work (JobWork | None | Unset): What the job does on the worker whose estimate is the median (at its UNet batch
                size).
     """

    cells: list[CellLabel]
    cost: SweepCost
    estimated_seconds: float | None
    evals_per_s: float | None
    model: str
    reference: ComparisonEstimateReferenceType0 | None
    schedulers: int
    workers_measured: int
    cost_model: CostModel | None | Unset = UNSET
    estimated_by: ComparisonEstimateEstimatedByType0 | None | Unset = UNSET
    queued: bool | Unset = False
    work: JobWork | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.cell_label import CellLabel # noqa: PLC0415
        from ..models.comparison_estimate_reference_type_0 import ComparisonEstimateReferenceType0 # noqa: PLC0415
        from ..models.cost_model import CostModel # noqa: PLC0415
        from ..models.job_work import JobWork # noqa: PLC0415
        from ..models.sweep_cost import SweepCost # noqa: PLC0415
        cells = []
        for cells_item_data in self.cells:
            cells_item = cells_item_data.to_dict()
            cells.append(cells_item)



        cost = self.cost.to_dict()

        estimated_seconds: float | None
        estimated_seconds = self.estimated_seconds

        evals_per_s: float | None
        evals_per_s = self.evals_per_s

        model = self.model

        reference: dict[str, Any] | None
        if isinstance(self.reference, ComparisonEstimateReferenceType0):
            reference = self.reference.to_dict()
        else:
            reference = self.reference

        schedulers = self.schedulers

        workers_measured = self.workers_measured

        cost_model: dict[str, Any] | None | Unset
        if isinstance(self.cost_model, Unset):
            cost_model = UNSET
        elif isinstance(self.cost_model, CostModel):
            cost_model = self.cost_model.to_dict()
        else:
            cost_model = self.cost_model

        estimated_by: None | str | Unset
        if isinstance(self.estimated_by, Unset):
            estimated_by = UNSET
        elif isinstance(self.estimated_by, ComparisonEstimateEstimatedByType0):
            estimated_by = self.estimated_by.value
        else:
            estimated_by = self.estimated_by

        queued = self.queued

        work: dict[str, Any] | None | Unset
        if isinstance(self.work, Unset):
            work = UNSET
        elif isinstance(self.work, JobWork):
            work = self.work.to_dict()
        else:
            work = self.work


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "cells": cells,
            "cost": cost,
            "estimated_seconds": estimated_seconds,
            "evals_per_s": evals_per_s,
            "model": model,
            "reference": reference,
            "schedulers": schedulers,
            "workers_measured": workers_measured,
        })
        if cost_model is not UNSET:
            field_dict["cost_model"] = cost_model
        if estimated_by is not UNSET:
            field_dict["estimated_by"] = estimated_by
        if queued is not UNSET:
            field_dict["queued"] = queued
        if work is not UNSET:
            field_dict["work"] = work

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.cell_label import CellLabel # noqa: PLC0415
        from ..models.comparison_estimate_reference_type_0 import ComparisonEstimateReferenceType0 # noqa: PLC0415
        from ..models.cost_model import CostModel # noqa: PLC0415
        from ..models.job_work import JobWork # noqa: PLC0415
        from ..models.sweep_cost import SweepCost # noqa: PLC0415
        d = dict(src_dict)
        cells = []
        _cells = d.pop("cells")
        for cells_item_data in (_cells):
            cells_item = CellLabel.from_dict(cells_item_data)



            cells.append(cells_item)


        cost = SweepCost.from_dict(d.pop("cost"))




        def _parse_estimated_seconds(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        estimated_seconds = _parse_estimated_seconds(d.pop("estimated_seconds"))


        def _parse_evals_per_s(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        evals_per_s = _parse_evals_per_s(d.pop("evals_per_s"))


        model = d.pop("model")

        def _parse_reference(data: object) -> ComparisonEstimateReferenceType0 | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                reference_type_0 = ComparisonEstimateReferenceType0.from_dict(data)



                return reference_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ComparisonEstimateReferenceType0 | None, data)

        reference = _parse_reference(d.pop("reference"))


        schedulers = d.pop("schedulers")

        workers_measured = d.pop("workers_measured")

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


        def _parse_estimated_by(data: object) -> ComparisonEstimateEstimatedByType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                estimated_by_type_0 = ComparisonEstimateEstimatedByType0(data)



                return estimated_by_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ComparisonEstimateEstimatedByType0 | None | Unset, data)

        estimated_by = _parse_estimated_by(d.pop("estimated_by", UNSET))


        queued = d.pop("queued", UNSET)

        def _parse_work(data: object) -> JobWork | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                work_type_0 = JobWork.from_dict(data)



                return work_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(JobWork | None | Unset, data)

        work = _parse_work(d.pop("work", UNSET))


        comparison_estimate = cls(
            cells=cells,
            cost=cost,
            estimated_seconds=estimated_seconds,
            evals_per_s=evals_per_s,
            model=model,
            reference=reference,
            schedulers=schedulers,
            workers_measured=workers_measured,
            cost_model=cost_model,
            estimated_by=estimated_by,
            queued=queued,
            work=work,
        )


        comparison_estimate.additional_properties = d
        return comparison_estimate

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
