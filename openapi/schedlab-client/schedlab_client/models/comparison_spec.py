from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.decoder import Decoder
from ..models.execution import Execution
from ..models.frame_kind import FrameKind
from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.capture import Capture
  from ..models.reference import Reference
  from ..models.scheduler_choice import SchedulerChoice
  from ..models.webhook import Webhook





T = TypeVar("T", bound="ComparisonSpec")



@_attrs_define
class ComparisonSpec:
    """ One prompt, many schedulers; `steps`, `guidance_scale` and `seed` are one value or a list (a sweep).

    A sweep runs every scheduler on every (steps, guidance_scale, seed) cell. Image i of a cell uses seed
    `seed + i` for every scheduler.

        Attributes:
            prompt (str):
            schedulers (list[SchedulerChoice]):
            capture (Capture | None | Unset): Default: every ceil(steps / 6) steps (about six frames), so it fits any
                `steps`. The final step is always captured.
            decoder (Decoder | Unset): How frames become pixels.
            execution (Execution | Unset): How a comparison's schedulers share the model.
            frames (FrameKind | Unset): What a captured frame shows.
            guidance_scale (float | list[float] | Unset): 0 to 50, or a list of distinct guidance scales (a sweep axis).
                Default: 7.5.
            height (int | None | Unset): Pixels, a multiple of 8; default: the model's own size.
            model (None | str | Unset): Which served model runs the job (see GET /v1/models); default: the deployment's
                default model.
            negative_prompt (None | str | Unset):
            num_images (int | Unset):  Default: 4.
            reference (None | Reference | Unset): What sweep cells are measured against; sweeps default to DPM++ 2M at 100
                steps (Flow DPM++ 2M on flow-matching models). A single-value job runs one only when asked.
            seed (int | list[int] | Unset): 0 to 9223372036854775791, or a list of distinct seeds (a sweep axis). Default:
                0.
            steps (int | list[int] | Unset): 1 to 1000 scheduler steps, or a list of distinct step counts (a sweep axis).
                Default: 30.
            webhook (None | Unset | Webhook): Job events are POSTed here, signed; not part of the manifest.
            width (int | None | Unset): Pixels, a multiple of 8; default: the model's own size.
     """

    prompt: str
    schedulers: list[SchedulerChoice]
    capture: Capture | None | Unset = UNSET
    decoder: Decoder | Unset = UNSET
    execution: Execution | Unset = UNSET
    frames: FrameKind | Unset = UNSET
    guidance_scale: float | list[float] | Unset = 7.5
    height: int | None | Unset = UNSET
    model: None | str | Unset = UNSET
    negative_prompt: None | str | Unset = UNSET
    num_images: int | Unset = 4
    reference: None | Reference | Unset = UNSET
    seed: int | list[int] | Unset = 0
    steps: int | list[int] | Unset = 30
    webhook: None | Unset | Webhook = UNSET
    width: int | None | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        from ..models.capture import Capture # noqa: PLC0415
        from ..models.reference import Reference # noqa: PLC0415
        from ..models.scheduler_choice import SchedulerChoice # noqa: PLC0415
        from ..models.webhook import Webhook # noqa: PLC0415
        prompt = self.prompt

        schedulers = []
        for schedulers_item_data in self.schedulers:
            schedulers_item = schedulers_item_data.to_dict()
            schedulers.append(schedulers_item)



        capture: dict[str, Any] | None | Unset
        if isinstance(self.capture, Unset):
            capture = UNSET
        elif isinstance(self.capture, Capture):
            capture = self.capture.to_dict()
        else:
            capture = self.capture

        decoder: str | Unset = UNSET
        if not isinstance(self.decoder, Unset):
            decoder = self.decoder.value


        execution: str | Unset = UNSET
        if not isinstance(self.execution, Unset):
            execution = self.execution.value


        frames: str | Unset = UNSET
        if not isinstance(self.frames, Unset):
            frames = self.frames.value


        guidance_scale: float | list[float] | Unset
        if isinstance(self.guidance_scale, Unset):
            guidance_scale = UNSET
        elif isinstance(self.guidance_scale, list):
            guidance_scale = self.guidance_scale


        else:
            guidance_scale = self.guidance_scale

        height: int | None | Unset
        if isinstance(self.height, Unset):
            height = UNSET
        else:
            height = self.height

        model: None | str | Unset
        if isinstance(self.model, Unset):
            model = UNSET
        else:
            model = self.model

        negative_prompt: None | str | Unset
        if isinstance(self.negative_prompt, Unset):
            negative_prompt = UNSET
        else:
            negative_prompt = self.negative_prompt

        num_images = self.num_images

        reference: dict[str, Any] | None | Unset
        if isinstance(self.reference, Unset):
            reference = UNSET
        elif isinstance(self.reference, Reference):
            reference = self.reference.to_dict()
        else:
            reference = self.reference

        seed: int | list[int] | Unset
        if isinstance(self.seed, Unset):
            seed = UNSET
        elif isinstance(self.seed, list):
            seed = self.seed


        else:
            seed = self.seed

        steps: int | list[int] | Unset
        if isinstance(self.steps, Unset):
            steps = UNSET
        elif isinstance(self.steps, list):
            steps = self.steps


        else:
            steps = self.steps

        webhook: dict[str, Any] | None | Unset
        if isinstance(self.webhook, Unset):
            webhook = UNSET
        elif isinstance(self.webhook, Webhook):
            webhook = self.webhook.to_dict()
        else:
            webhook = self.webhook

        width: int | None | Unset
        if isinstance(self.width, Unset):
            width = UNSET
        else:
            width = self.width


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "prompt": prompt,
            "schedulers": schedulers,
        })
        if capture is not UNSET:
            field_dict["capture"] = capture
        if decoder is not UNSET:
            field_dict["decoder"] = decoder
        if execution is not UNSET:
            field_dict["execution"] = execution
        if frames is not UNSET:
            field_dict["frames"] = frames
        if guidance_scale is not UNSET:
            field_dict["guidance_scale"] = guidance_scale
        if height is not UNSET:
            field_dict["height"] = height
        if model is not UNSET:
            field_dict["model"] = model
        if negative_prompt is not UNSET:
            field_dict["negative_prompt"] = negative_prompt
        if num_images is not UNSET:
            field_dict["num_images"] = num_images
        if reference is not UNSET:
            field_dict["reference"] = reference
        if seed is not UNSET:
            field_dict["seed"] = seed
        if steps is not UNSET:
            field_dict["steps"] = steps
        if webhook is not UNSET:
            field_dict["webhook"] = webhook
        if width is not UNSET:
            field_dict["width"] = width

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.capture import Capture # noqa: PLC0415
        from ..models.reference import Reference # noqa: PLC0415
        from ..models.scheduler_choice import SchedulerChoice # noqa: PLC0415
        from ..models.webhook import Webhook # noqa: PLC0415
        d = dict(src_dict)
        prompt = d.pop("prompt")

        schedulers = []
        _schedulers = d.pop("schedulers")
        for schedulers_item_data in (_schedulers):
            schedulers_item = SchedulerChoice.from_dict(schedulers_item_data)



            schedulers.append(schedulers_item)


        def _parse_capture(data: object) -> Capture | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                capture_type_0 = Capture.from_dict(data)



                return capture_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Capture | None | Unset, data)

        capture = _parse_capture(d.pop("capture", UNSET))


        _decoder = d.pop("decoder", UNSET)
        decoder: Decoder | Unset
        if isinstance(_decoder,  Unset):
            decoder = UNSET
        else:
            decoder = Decoder(_decoder)




        _execution = d.pop("execution", UNSET)
        execution: Execution | Unset
        if isinstance(_execution,  Unset):
            execution = UNSET
        else:
            execution = Execution(_execution)




        _frames = d.pop("frames", UNSET)
        frames: FrameKind | Unset
        if isinstance(_frames,  Unset):
            frames = UNSET
        else:
            frames = FrameKind(_frames)




        def _parse_guidance_scale(data: object) -> float | list[float] | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                guidance_scale_type_1 = cast(list[float], data)

                return guidance_scale_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(float | list[float] | Unset, data)

        guidance_scale = _parse_guidance_scale(d.pop("guidance_scale", UNSET))


        def _parse_height(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        height = _parse_height(d.pop("height", UNSET))


        def _parse_model(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        model = _parse_model(d.pop("model", UNSET))


        def _parse_negative_prompt(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        negative_prompt = _parse_negative_prompt(d.pop("negative_prompt", UNSET))


        num_images = d.pop("num_images", UNSET)

        def _parse_reference(data: object) -> None | Reference | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                reference_type_0 = Reference.from_dict(data)



                return reference_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Reference | Unset, data)

        reference = _parse_reference(d.pop("reference", UNSET))


        def _parse_seed(data: object) -> int | list[int] | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                seed_type_1 = cast(list[int], data)

                return seed_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(int | list[int] | Unset, data)

        seed = _parse_seed(d.pop("seed", UNSET))


        def _parse_steps(data: object) -> int | list[int] | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                steps_type_1 = cast(list[int], data)

                return steps_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(int | list[int] | Unset, data)

        steps = _parse_steps(d.pop("steps", UNSET))


        def _parse_webhook(data: object) -> None | Unset | Webhook:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                webhook_type_0 = Webhook.from_dict(data)



                return webhook_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | Webhook, data)

        webhook = _parse_webhook(d.pop("webhook", UNSET))


        def _parse_width(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        width = _parse_width(d.pop("width", UNSET))


        comparison_spec = cls(
            prompt=prompt,
            schedulers=schedulers,
            capture=capture,
            decoder=decoder,
            execution=execution,
            frames=frames,
            guidance_scale=guidance_scale,
            height=height,
            model=model,
            negative_prompt=negative_prompt,
            num_images=num_images,
            reference=reference,
            seed=seed,
            steps=steps,
            webhook=webhook,
            width=width,
        )

        return comparison_spec

