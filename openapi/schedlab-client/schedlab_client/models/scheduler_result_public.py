from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.cell_label import CellLabel
  from ..models.frame_link import FrameLink
  from ..models.reference_distance import ReferenceDistance
  from ..models.scheduler_result_public_effective_config import SchedulerResultPublicEffectiveConfig
  from ..models.scheduler_result_public_quality_type_0 import SchedulerResultPublicQualityType0
  from ..models.scheduler_timings import SchedulerTimings





T = TypeVar("T", bound="SchedulerResultPublic")



@_attrs_define
class SchedulerResultPublic:
    """ 
        Attributes:
            class_name (str):
            convergence (list[list[float | int]]): (step, relative latent distance of that step's x0 prediction to the final
                latent).
            effective_config (SchedulerResultPublicEffectiveConfig):
            emergence_step (int | None):
            final_images (list[str]):
            frames (list[FrameLink]):
            grid_url (None | str):
            id (str): The registry entry it resolved to.
            scheduler (str): The name as requested.
            seeds (list[int]):
            status (str):
            stochastic (bool):
            timings (SchedulerTimings):
            cell (CellLabel | None | Unset): The sweep cell this run belongs to; null for a plain job.
            quality (None | SchedulerResultPublicQualityType0 | Unset): Demo model only: shares of final images whose colour
                and shape match the prompt.
            reference_distance (None | ReferenceDistance | Unset): Distance of the final latents and images to the
                reference's (same seed and guidance).
     """

    class_name: str
    convergence: list[list[float | int]]
    effective_config: SchedulerResultPublicEffectiveConfig
    emergence_step: int | None
    final_images: list[str]
    frames: list[FrameLink]
    grid_url: None | str
    id: str
    scheduler: str
    seeds: list[int]
    status: str
    stochastic: bool
    timings: SchedulerTimings
    cell: CellLabel | None | Unset = UNSET
    quality: None | SchedulerResultPublicQualityType0 | Unset = UNSET
    reference_distance: None | ReferenceDistance | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.cell_label import CellLabel # noqa: PLC0415
        from ..models.frame_link import FrameLink # noqa: PLC0415
        from ..models.reference_distance import ReferenceDistance # noqa: PLC0415
        from ..models.scheduler_result_public_effective_config import SchedulerResultPublicEffectiveConfig # noqa: PLC0415
        from ..models.scheduler_result_public_quality_type_0 import SchedulerResultPublicQualityType0 # noqa: PLC0415
        from ..models.scheduler_timings import SchedulerTimings # noqa: PLC0415
        class_name = self.class_name

        convergence = []
        for convergence_item_data in self.convergence:
            convergence_item = []
            for convergence_item_item_data in convergence_item_data:
                convergence_item_item: float | int
                convergence_item_item = convergence_item_item_data
                convergence_item.append(convergence_item_item)


            convergence.append(convergence_item)



        effective_config = self.effective_config.to_dict()

        emergence_step: int | None
        emergence_step = self.emergence_step

        final_images = self.final_images



        frames = []
        for frames_item_data in self.frames:
            frames_item = frames_item_data.to_dict()
            frames.append(frames_item)



        grid_url: None | str
        grid_url = self.grid_url

        id = self.id

        scheduler = self.scheduler

        seeds = self.seeds



        status = self.status

        stochastic = self.stochastic

        timings = self.timings.to_dict()

        cell: dict[str, Any] | None | Unset
        if isinstance(self.cell, Unset):
            cell = UNSET
        elif isinstance(self.cell, CellLabel):
            cell = self.cell.to_dict()
        else:
            cell = self.cell

        quality: dict[str, Any] | None | Unset
        if isinstance(self.quality, Unset):
            quality = UNSET
        elif isinstance(self.quality, SchedulerResultPublicQualityType0):
            quality = self.quality.to_dict()
        else:
            quality = self.quality

        reference_distance: dict[str, Any] | None | Unset
        if isinstance(self.reference_distance, Unset):
            reference_distance = UNSET
        elif isinstance(self.reference_distance, ReferenceDistance):
            reference_distance = self.reference_distance.to_dict()
        else:
            reference_distance = self.reference_distance


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "class_name": class_name,
            "convergence": convergence,
            "effective_config": effective_config,
            "emergence_step": emergence_step,
            "final_images": final_images,
            "frames": frames,
            "grid_url": grid_url,
            "id": id,
            "scheduler": scheduler,
            "seeds": seeds,
            "status": status,
            "stochastic": stochastic,
            "timings": timings,
        })
        if cell is not UNSET:
            field_dict["cell"] = cell
        if quality is not UNSET:
            field_dict["quality"] = quality
        if reference_distance is not UNSET:
            field_dict["reference_distance"] = reference_distance

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.cell_label import CellLabel # noqa: PLC0415
        from ..models.frame_link import FrameLink # noqa: PLC0415
        from ..models.reference_distance import ReferenceDistance # noqa: PLC0415
        from ..models.scheduler_result_public_effective_config import SchedulerResultPublicEffectiveConfig # noqa: PLC0415
        from ..models.scheduler_result_public_quality_type_0 import SchedulerResultPublicQualityType0 # noqa: PLC0415
        from ..models.scheduler_timings import SchedulerTimings # noqa: PLC0415
        d = dict(src_dict)
        class_name = d.pop("class_name")

        convergence = []
        _convergence = d.pop("convergence")
        for convergence_item_data in (_convergence):
            convergence_item = []
            _convergence_item = convergence_item_data
            for convergence_item_item_data in (_convergence_item):
                def _parse_convergence_item_item(data: object) -> float | int:
                    return cast(float | int, data)

                convergence_item_item = _parse_convergence_item_item(convergence_item_item_data)

                convergence_item.append(convergence_item_item)

            convergence.append(convergence_item)


        effective_config = SchedulerResultPublicEffectiveConfig.from_dict(d.pop("effective_config"))




        def _parse_emergence_step(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        emergence_step = _parse_emergence_step(d.pop("emergence_step"))


        final_images = cast(list[str], d.pop("final_images"))


        frames = []
        _frames = d.pop("frames")
        for frames_item_data in (_frames):
            frames_item = FrameLink.from_dict(frames_item_data)



            frames.append(frames_item)


        def _parse_grid_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        grid_url = _parse_grid_url(d.pop("grid_url"))


        id = d.pop("id")

        scheduler = d.pop("scheduler")

        seeds = cast(list[int], d.pop("seeds"))


        status = d.pop("status")

        stochastic = d.pop("stochastic")

        timings = SchedulerTimings.from_dict(d.pop("timings"))




        def _parse_cell(data: object) -> CellLabel | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                cell_type_0 = CellLabel.from_dict(data)



                return cell_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CellLabel | None | Unset, data)

        cell = _parse_cell(d.pop("cell", UNSET))


        def _parse_quality(data: object) -> None | SchedulerResultPublicQualityType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                quality_type_0 = SchedulerResultPublicQualityType0.from_dict(data)



                return quality_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | SchedulerResultPublicQualityType0 | Unset, data)

        quality = _parse_quality(d.pop("quality", UNSET))


        def _parse_reference_distance(data: object) -> None | ReferenceDistance | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                reference_distance_type_0 = ReferenceDistance.from_dict(data)



                return reference_distance_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ReferenceDistance | Unset, data)

        reference_distance = _parse_reference_distance(d.pop("reference_distance", UNSET))


        scheduler_result_public = cls(
            class_name=class_name,
            convergence=convergence,
            effective_config=effective_config,
            emergence_step=emergence_step,
            final_images=final_images,
            frames=frames,
            grid_url=grid_url,
            id=id,
            scheduler=scheduler,
            seeds=seeds,
            status=status,
            stochastic=stochastic,
            timings=timings,
            cell=cell,
            quality=quality,
            reference_distance=reference_distance,
        )


        scheduler_result_public.additional_properties = d
        return scheduler_result_public

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
