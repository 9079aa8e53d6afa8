"""The event stream over real HTTP: uvicorn, a worker process and Redis; dropped and resumed mid-job."""

from __future__ import annotations

import httpx
import pytest

from tests.harness import Stack
from tests.sse import Event, parse

pytestmark = pytest.mark.e2e

TERMINAL = {"succeeded", "failed", "canceled"}


def read_events(base_url: str, job_id: str, stop_after_steps: int | None = None, **headers: str) -> list[Event]:
    """Events of one connection; with `stop_after_steps`, the client drops the connection after that many steps."""
    events: list[Event] = []
    url = f"{base_url}/v1/comparisons/{job_id}/events"
    with httpx.stream("GET", url, headers=headers, timeout=60) as response:
        assert response.status_code == 200
        for item in parse(response.iter_lines()):
            if isinstance(item, Event):
                events.append(item)
                steps = sum(e.event == "step" for e in events)
                if stop_after_steps is not None and steps >= stop_after_steps:
                    break
    return events


def test_a_dropped_stream_resumed_on_a_restarted_api_with_last_event_id_loses_and_repeats_nothing(
    file_stack: Stack,
) -> None:
    spec = {
        "prompt": "a red circle on a black background",
        "num_images": 1,
        "steps": 60,
        "schedulers": [{"name": "euler"}, {"name": "heun"}],
        "capture": {"every": 10},
    }
    job_id = httpx.post(f"{file_stack.base_url}/v1/comparisons", json=spec).json()["id"]

    # Batched, euler and heun advance together (heun completes a step every second tick): after 24 step events
    # euler is past its step-10 frame, and the job is still running. The client goes away mid-job.
    first = read_events(file_stack.base_url, job_id, stop_after_steps=24)
    assert not {e.event for e in first} & TERMINAL
    status = httpx.get(f"{file_stack.base_url}/v1/comparisons/{job_id}").json()["status"]
    assert status in ("queued", "running")  # the events came live, before the job ended

    frames = [url for e in first if e.event == "step" for url in e.json()["frames"]]
    assert frames and httpx.get(frames[0]).status_code == 200  # an announced frame is already served

    file_stack.start_api()  # the events live in Redis: a new API process (or another replica) resumes them
    rest = read_events(file_stack.base_url, job_id, **{"Last-Event-ID": first[-1].id or ""})
    assert rest[-1].event == "succeeded"

    replay = read_events(file_stack.base_url, job_id)  # the finished job's stream, from the start
    assert [e.id for e in first + rest] == [e.id for e in replay]
    assert [e.data for e in first + rest] == [e.data for e in replay]
    names = [e.event for e in replay]
    assert names[:2] == ["queued", "started"] and names.count("scheduler_done") == 2
    steps = [(e.json()["scheduler_index"], e.json()["step"]) for e in replay if e.event == "step"]
    # Batched, the two schedulers' steps interleave; each scheduler's own steps come once each, in order.
    for index in (0, 1):
        assert [step for i, step in steps if i == index] == list(range(1, 61))
    assert len(steps) == 120
    done = [e.json() for e in replay if e.event == "scheduler_done"]
    assert [d["timings"]["unet_calls"] for d in done] == [60, 119]
