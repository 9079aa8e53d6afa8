from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.execution import Execution
from typing import cast

if TYPE_CHECKING:
  from ..models.job_work_tick_batch_sizes import JobWorkTickBatchSizes





T = TypeVar("T", bound="JobWork")



@_attrs_define
class JobWork:
    """ What a job does on a worker, counted from its spec: what its running time is priced by.

        Attributes:
            decoded_images (int): VAE decodes, one per image: frames and final images, references' too.
            execution (Execution): How a comparison's schedulers share the model.
            max_batch (int): The most samples the worker puts in one UNet call.
            tick_batch_sizes (JobWorkTickBatchSizes): Samples per UNet step (images, x 2 with guidance) -> steps.
            ticks (int): UNet steps: batched, one per lock-step tick; sequential, one per run and step.
            unet_calls (int): UNet forward passes: batched ticks split into chunks of at most max_batch.
            unet_samples (int): Samples over every UNet call.
     """

    decoded_images: int
    execution: Execution
    max_batch: int
    tick_batch_sizes: JobWorkTickBatchSizes
    ticks: int
    unet_calls: int
    unet_samples: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.job_work_tick_batch_sizes import JobWorkTickBatchSizes # noqa: PLC0415
        decoded_images = self.decoded_images

        execution = self.execution.value

        max_batch = self.max_batch

        tick_batch_sizes = self.tick_batch_sizes.to_dict()

        ticks = self.ticks

        unet_calls = self.unet_calls

        unet_samples = self.unet_samples


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "decoded_images": decoded_images,
            "execution": execution,
            "max_batch": max_batch,
            "tick_batch_sizes": tick_batch_sizes,
            "ticks": ticks,
            "unet_calls": unet_calls,
            "unet_samples": unet_samples,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.job_work_tick_batch_sizes import JobWorkTickBatchSizes # noqa: PLC0415
        d = dict(src_dict)
        decoded_images = d.pop("decoded_images")

        execution = Execution(d.pop("execution"))




        max_batch = d.pop("max_batch")

        tick_batch_sizes = JobWorkTickBatchSizes.from_dict(d.pop("tick_batch_sizes"))




        ticks = d.pop("ticks")

        unet_calls = d.pop("unet_calls")

        unet_samples = d.pop("unet_samples")

        job_work = cls(
            decoded_images=decoded_images,
            execution=execution,
            max_batch=max_batch,
            tick_batch_sizes=tick_batch_sizes,
            ticks=ticks,
            unet_calls=unet_calls,
            unet_samples=unet_samples,
        )


        job_work.additional_properties = d
        return job_work

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
