"""A Server-Sent Events reader for the tests: the wire format parsed by hand, independently of the server's code."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass
class Event:
    id: str | None
    event: str | None
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


@dataclass
class Comment:
    text: str


def parse(lines: Iterable[str]) -> Iterator[Event | Comment]:
    """Events and comments from a stream's lines, per the WHATWG event-stream rules (the parts servers use)."""
    fields: dict[str, list[str]] = {}
    for line in lines:
        if line == "":
            if fields:
                yield Event(
                    id=fields.get("id", [None])[-1],
                    event=fields.get("event", [None])[-1],
                    data="\n".join(fields.get("data", [])),
                )
            fields = {}
        elif line.startswith(":"):
            yield Comment(line[1:].strip())
        else:
            name, _, value = line.partition(":")
            fields.setdefault(name, []).append(value.removeprefix(" "))


def events_only(items: Iterable[Event | Comment]) -> list[Event]:
    return [item for item in items if isinstance(item, Event)]
