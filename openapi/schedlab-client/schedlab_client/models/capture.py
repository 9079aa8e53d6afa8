from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="Capture")



@_attrs_define
class Capture:
    """ Which scheduler steps to capture frames at: every N steps, or a list. The final step always is.

        Attributes:
            every (int | None | Unset):
            steps (list[int] | None | Unset):
     """

    every: int | None | Unset = UNSET
    steps: list[int] | None | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        every: int | None | Unset
        if isinstance(self.every, Unset):
            every = UNSET
        else:
            every = self.every

        steps: list[int] | None | Unset
        if isinstance(self.steps, Unset):
            steps = UNSET
        elif isinstance(self.steps, list):
            steps = self.steps


        else:
            steps = self.steps


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if every is not UNSET:
            field_dict["every"] = every
        if steps is not UNSET:
            field_dict["steps"] = steps

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        def _parse_every(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        every = _parse_every(d.pop("every", UNSET))


        def _parse_steps(data: object) -> list[int] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                steps_type_0 = cast(list[int], data)

                return steps_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[int] | None | Unset, data)

        steps = _parse_steps(d.pop("steps", UNSET))


        capture = cls(
            every=every,
            steps=steps,
        )

        return capture

