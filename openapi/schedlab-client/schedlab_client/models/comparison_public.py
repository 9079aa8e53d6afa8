from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.job_status import JobStatus
from ..types import UNSET, Unset
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.comparison_links import ComparisonLinks
  from ..models.comparison_public_charts import ComparisonPublicCharts
  from ..models.comparison_spec import ComparisonSpec
  from ..models.job_progress import JobProgress
  from ..models.scheduler_result_public import SchedulerResultPublic
  from ..models.sweep_public import SweepPublic





T = TypeVar("T", bound="ComparisonPublic")



@_attrs_define
class ComparisonPublic:
    """ A comparison job as clients see it.

        Attributes:
            attempts (int):
            contact_sheet_url (None | str):
            created_at (datetime.datetime):
            error (None | str):
            finished_at (datetime.datetime | None):
            id (str):
            links (ComparisonLinks):
            manifest_url (None | str):
            progress (list[JobProgress]):
            queue_position (int | None): 0 = next; only while queued.
            results (list[SchedulerResultPublic]):
            spec (ComparisonSpec): One prompt, many schedulers; `steps`, `guidance_scale` and `seed` are one value or a list
                (a sweep).

                A sweep runs every scheduler on every (steps, guidance_scale, seed) cell. Image i of a cell uses seed
                `seed + i` for every scheduler.
            started_at (datetime.datetime | None):
            status (JobStatus): A comparison job's lifecycle: queued → running → succeeded | failed | canceled.
            charts (ComparisonPublicCharts | Unset): PNG charts by name (`convergence`, `similarity`): their URLs.
            sweep (None | SweepPublic | Unset): Sweeps only, once finished.
     """

    attempts: int
    contact_sheet_url: None | str
    created_at: datetime.datetime
    error: None | str
    finished_at: datetime.datetime | None
    id: str
    links: ComparisonLinks
    manifest_url: None | str
    progress: list[JobProgress]
    queue_position: int | None
    results: list[SchedulerResultPublic]
    spec: ComparisonSpec
    started_at: datetime.datetime | None
    status: JobStatus
    charts: ComparisonPublicCharts | Unset = UNSET
    sweep: None | SweepPublic | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.comparison_links import ComparisonLinks # noqa: PLC0415
        from ..models.comparison_public_charts import ComparisonPublicCharts # noqa: PLC0415
        from ..models.comparison_spec import ComparisonSpec # noqa: PLC0415
        from ..models.job_progress import JobProgress # noqa: PLC0415
        from ..models.scheduler_result_public import SchedulerResultPublic # noqa: PLC0415
        from ..models.sweep_public import SweepPublic # noqa: PLC0415
        attempts = self.attempts

        contact_sheet_url: None | str
        contact_sheet_url = self.contact_sheet_url

        created_at = self.created_at.isoformat()

        error: None | str
        error = self.error

        finished_at: None | str
        if isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        id = self.id

        links = self.links.to_dict()

        manifest_url: None | str
        manifest_url = self.manifest_url

        progress = []
        for progress_item_data in self.progress:
            progress_item = progress_item_data.to_dict()
            progress.append(progress_item)



        queue_position: int | None
        queue_position = self.queue_position

        results = []
        for results_item_data in self.results:
            results_item = results_item_data.to_dict()
            results.append(results_item)



        spec = self.spec.to_dict()

        started_at: None | str
        if isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        status = self.status.value

        charts: dict[str, Any] | Unset = UNSET
        if not isinstance(self.charts, Unset):
            charts = self.charts.to_dict()

        sweep: dict[str, Any] | None | Unset
        if isinstance(self.sweep, Unset):
            sweep = UNSET
        elif isinstance(self.sweep, SweepPublic):
            sweep = self.sweep.to_dict()
        else:
            sweep = self.sweep


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "attempts": attempts,
            "contact_sheet_url": contact_sheet_url,
            "created_at": created_at,
            "error": error,
            "finished_at": finished_at,
            "id": id,
            "links": links,
            "manifest_url": manifest_url,
            "progress": progress,
            "queue_position": queue_position,
            "results": results,
            "spec": spec,
            "started_at": started_at,
            "status": status,
        })
        if charts is not UNSET:
            field_dict["charts"] = charts
        if sweep is not UNSET:
            field_dict["sweep"] = sweep

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.comparison_links import ComparisonLinks # noqa: PLC0415
        from ..models.comparison_public_charts import ComparisonPublicCharts # noqa: PLC0415
        from ..models.comparison_spec import ComparisonSpec # noqa: PLC0415
        from ..models.job_progress import JobProgress # noqa: PLC0415
        from ..models.scheduler_result_public import SchedulerResultPublic # noqa: PLC0415
        from ..models.sweep_public import SweepPublic # noqa: PLC0415
        d = dict(src_dict)
        attempts = d.pop("attempts")

        def _parse_contact_sheet_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        contact_sheet_url = _parse_contact_sheet_url(d.pop("contact_sheet_url"))


        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        def _parse_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error = _parse_error(d.pop("error"))


        def _parse_finished_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                finished_at_type_0 = datetime.datetime.fromisoformat(data)



                return finished_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        finished_at = _parse_finished_at(d.pop("finished_at"))


        id = d.pop("id")

        links = ComparisonLinks.from_dict(d.pop("links"))




        def _parse_manifest_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        manifest_url = _parse_manifest_url(d.pop("manifest_url"))


        progress = []
        _progress = d.pop("progress")
        for progress_item_data in (_progress):
            progress_item = JobProgress.from_dict(progress_item_data)



            progress.append(progress_item)


        def _parse_queue_position(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        queue_position = _parse_queue_position(d.pop("queue_position"))


        results = []
        _results = d.pop("results")
        for results_item_data in (_results):
            results_item = SchedulerResultPublic.from_dict(results_item_data)



            results.append(results_item)


        spec = ComparisonSpec.from_dict(d.pop("spec"))




        def _parse_started_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                started_at_type_0 = datetime.datetime.fromisoformat(data)



                return started_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        started_at = _parse_started_at(d.pop("started_at"))


        status = JobStatus(d.pop("status"))




        _charts = d.pop("charts", UNSET)
        charts: ComparisonPublicCharts | Unset
        if isinstance(_charts,  Unset):
            charts = UNSET
        else:
            charts = ComparisonPublicCharts.from_dict(_charts)




        def _parse_sweep(data: object) -> None | SweepPublic | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                sweep_type_0 = SweepPublic.from_dict(data)



                return sweep_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | SweepPublic | Unset, data)

        sweep = _parse_sweep(d.pop("sweep", UNSET))


        comparison_public = cls(
            attempts=attempts,
            contact_sheet_url=contact_sheet_url,
            created_at=created_at,
            error=error,
            finished_at=finished_at,
            id=id,
            links=links,
            manifest_url=manifest_url,
            progress=progress,
            queue_position=queue_position,
            results=results,
            spec=spec,
            started_at=started_at,
            status=status,
            charts=charts,
            sweep=sweep,
        )


        comparison_public.additional_properties = d
        return comparison_public

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
