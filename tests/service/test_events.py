"""Job event streams: the store's Redis Stream per job, and `GET /v1/comparisons/{id}/events` over the real Redis."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from service.api import events as events_module
from service.api.app import create_app
from service.api.events import JobEventHub
from service.contract import ComparisonSpec, FrameRef, JobStatus, SchedulerResult, SchedulerTimings, StepRecord
from service.job_store import JobEvent, JobReader, JobStore
from service.settings import Settings
from tests.sse import Comment, Event, events_only, parse

SPEC = ComparisonSpec(
    prompt="a red circle", schedulers=[{"name": "euler"}], steps=2, num_images=1, capture={"every": 1}
)


@pytest.fixture
def settings(redis_url: str, key_prefix: str, tmp_path: Path) -> Settings:
    return Settings(
        redis_url=redis_url, key_prefix=key_prefix, storage_url=tmp_path.as_uri(), events_heartbeat_s=0.2, job_ttl_s=120
    )


@pytest.fixture
def store(settings: Settings) -> JobStore:
    return JobStore(Redis.from_url(settings.redis_url, decode_responses=True), settings.key_prefix, settings.job_ttl_s)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def step(index: int, number: int, frames: list[str] | None = None) -> StepRecord:
    return StepRecord(
        scheduler_index=index,
        scheduler="euler",
        step=number,
        of=2,
        timestep=999.0 - number,
        sigma=1.5,
        at=time.time(),
        frames=frames or [],
    )


def result(job_id: str) -> SchedulerResult:
    root = f"comparisons/{job_id}/01-euler"
    return SchedulerResult(
        index=0, name="euler", id="euler", class_name="EulerDiscreteScheduler", folder=root, status="succeeded",
        stochastic=False, effective_config={}, seeds=[0], final_images=[f"{root}/final/image-0.png"],
        frames=[FrameRef(step=2, image_index=0, key=f"{root}/frames/step-0002/image-0.png")],
        grid=f"{root}/grid.png", timings=SchedulerTimings(wall_s=0.5, unet_calls=2), convergence=[(2, 0.0)],
        emergence_step=2, quality=None,
    )  # fmt: skip


def run_job(store: JobStore, job_id: str) -> None:
    """What a worker records for a 2-step, 1-scheduler job."""
    store.start(job_id, "w1")
    store.add_step(job_id, step(0, 1, [f"comparisons/{job_id}/01-euler/frames/step-0001/image-0.png"]))
    store.add_step(job_id, step(0, 2))
    store.add_result(job_id, result(job_id))
    store.finish(job_id, JobStatus.succeeded, contact_sheet=f"comparisons/{job_id}/contact-sheet.png")


def read(client: TestClient, job_id: str, **headers: str) -> list[Event | Comment]:
    with client.stream("GET", f"/v1/comparisons/{job_id}/events", headers=headers) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        return list(parse(response.iter_lines()))


def test_store_records_each_lifecycle_change_and_step_as_one_event_in_order(store: JobStore) -> None:
    store.create("j1", SPEC)
    run_job(store, "j1")
    events = store.events("j1")
    assert [e.type.value for e in events] == ["queued", "started", "step", "step", "scheduler_done", "succeeded"]
    ids = [tuple(map(int, e.id.split("-"))) for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert events[1].data["worker"] == "w1" and events[2].data["step"] == 1 and events[3].data["step"] == 2
    assert events[4].data["emergence_step"] == 2 and events[4].data["timings"]["unet_calls"] == 2
    assert store.events("j1", after=events[3].id) == events[4:]


def test_a_cancel_and_a_retry_are_events_too(store: JobStore) -> None:
    store.create("queued", SPEC)
    store.cancel("queued")
    assert [e.type.value for e in store.events("queued")] == ["queued", "canceled"]
    store.create("retried", SPEC)
    store.start("retried", "w1")
    store.requeue("retried", "worker w1 stopped responding")
    events = store.events("retried")
    assert [e.type.value for e in events] == ["queued", "started", "queued"]
    assert events[-1].data["error"] == "worker w1 stopped responding"


def test_event_streams_expire_with_their_job_and_go_with_a_withdrawn_one(store: JobStore) -> None:
    store.create("j1", SPEC)
    store.start("j1", "w1")
    events_key = store.keys.job_events("j1")
    assert store.redis.ttl(events_key) == -1  # a live job's stream stays
    store.finish("j1", JobStatus.failed, error="boom")
    assert 0 < store.redis.ttl(events_key) <= 120
    store.create("j2", SPEC)
    store.delete("j2")
    assert not store.redis.exists(store.keys.job_events("j2"))


def test_a_finished_jobs_stream_replays_every_event_with_urls_and_closes(client: TestClient, store: JobStore) -> None:
    job_id = client.post("/v1/comparisons", json=SPEC.model_dump(mode="json")).json()["id"]
    run_job(store, job_id)
    events = events_only(read(client, job_id))
    assert [e.event for e in events] == ["queued", "started", "step", "step", "scheduler_done", "succeeded"]
    assert [e.id for e in events] == [e.id for e in store.events(job_id)]
    frames = events[2].json()["frames"]
    assert frames == [f"http://testserver/v1/comparisons/{job_id}/files/01-euler/frames/step-0001/image-0.png"]
    assert client.get(frames[0].removeprefix("http://testserver")).status_code in (200, 404)  # a served path
    done = events[4].json()
    assert done["scheduler_index"] == 0 and done["grid_url"].endswith(
        f"/v1/comparisons/{job_id}/files/01-euler/grid.png"
    )
    assert events[5].json()["contact_sheet_url"].endswith("/contact-sheet.png")
    assert events[2].json()["timestep"] == 998.0 and events[2].json()["sigma"] == 1.5


def test_last_event_id_resumes_after_that_event(client: TestClient, store: JobStore) -> None:
    job_id = client.post("/v1/comparisons", json=SPEC.model_dump(mode="json")).json()["id"]
    run_job(store, job_id)
    everything = events_only(read(client, job_id))
    for cut in range(len(everything)):
        resumed = events_only(read(client, job_id, **{"Last-Event-ID": everything[cut].id or ""}))
        assert [e.id for e in resumed] == [e.id for e in everything[cut + 1 :]]


def test_a_running_job_streams_live_with_heartbeats_and_ends_with_it(client: TestClient, store: JobStore) -> None:
    job_id = client.post("/v1/comparisons", json=SPEC.model_dump(mode="json")).json()["id"]
    store.start(job_id, "w1")

    def worker() -> None:
        time.sleep(0.5)  # the stream idles for more than one heartbeat first
        run_job_after_start(store, job_id)

    thread = threading.Thread(target=worker)
    thread.start()
    items = read(client, job_id)
    thread.join()
    assert any(isinstance(item, Comment) and item.text == "heartbeat" for item in items)
    names = [e.event for e in events_only(items)]
    assert names == ["queued", "started", "step", "step", "scheduler_done", "succeeded"]
    # A replay starts from the same event as the live stream's first batch but reaches further: its own rendering.
    assert [e.id for e in events_only(read(client, job_id))] == [e.id for e in events_only(items)]


def run_job_after_start(store: JobStore, job_id: str) -> None:
    store.add_step(job_id, step(0, 1))
    store.add_step(job_id, step(0, 2))
    store.add_result(job_id, result(job_id))
    store.finish(job_id, JobStatus.succeeded)


def test_a_stream_resumed_after_its_terminal_event_closes_at_once(client: TestClient, store: JobStore) -> None:
    job_id = client.post("/v1/comparisons", json=SPEC.model_dump(mode="json")).json()["id"]
    client.post(f"/v1/comparisons/{job_id}/cancel")
    last = store.events(job_id)[-1]
    assert last.type.value == "canceled"
    assert read(client, job_id, **{"Last-Event-ID": last.id}) == []


# 20 digits: past Redis's 64-bit stream ids, which Redis itself refuses (the stream would fail after its 200).
BAD_EVENT_IDS = ["abc", "12", "1-2-3", "-1-0", "1-x", "9" * 21 + "-0", "9" * 20 + "-0", "1-" + "9" * 20]


@pytest.mark.parametrize("bad", BAD_EVENT_IDS)
def test_a_malformed_last_event_id_is_a_422_naming_it(client: TestClient, bad: str) -> None:
    job_id = client.post("/v1/comparisons", json=SPEC.model_dump(mode="json")).json()["id"]
    response = client.get(f"/v1/comparisons/{job_id}/events", headers={"Last-Event-ID": bad})
    assert response.status_code == 422
    assert "Last-Event-ID" in response.text


def test_unknown_jobs_and_other_keys_jobs_are_404_and_a_missing_key_401(settings: Settings) -> None:
    secured = settings.model_copy(update={"api_keys": Settings(api_keys="key-a,key-b").api_keys})
    with TestClient(create_app(secured)) as client:
        a, b = {"Authorization": "Bearer key-a"}, {"Authorization": "Bearer key-b"}
        job_id = client.post("/v1/comparisons", json=SPEC.model_dump(mode="json"), headers=a).json()["id"]
        client.post(f"/v1/comparisons/{job_id}/cancel", headers=a)
        assert client.get(f"/v1/comparisons/{job_id}/events", headers=b).status_code == 404
        assert client.get("/v1/comparisons/no-such-job/events", headers=a).status_code == 404
        assert client.get(f"/v1/comparisons/{job_id}/events").status_code == 401
        assert [e.event for e in events_only(read(client, job_id, **a))] == ["queued", "canceled"]


def test_waiting_for_events_outlasts_a_heartbeat_interval_without_a_redis_timeout(settings: Settings) -> None:
    # XREAD BLOCK waits up to the heartbeat interval; redis-py's own socket timeout (5 s) must not cut it short.
    app = create_app(settings.model_copy(update={"events_heartbeat_s": 30.0}))
    timeout = app.state.job_reader.redis.connection_pool.connection_kwargs["socket_timeout"]
    assert timeout is None or timeout > 30.0


def hub_for(settings: Settings, batch_window_s: float = 0.0) -> tuple[JobEventHub, list[int | None]]:
    """A hub on a real async Redis client, with a record of every read's `block_ms` (None = no wait)."""
    reader = JobReader(AsyncRedis.from_url(settings.redis_url, decode_responses=True), settings.key_prefix)
    blocks: list[int | None] = []
    read = reader.read

    async def recording_read(job_id: str, after: str, block_ms: int | None, count: int = 500) -> list[JobEvent]:
        blocks.append(block_ms)
        return await read(job_id, after, block_ms, count)

    reader.read = recording_read  # type: ignore[method-assign]
    return JobEventHub(reader, heartbeat_s=5, batch_window_s=batch_window_s), blocks


def test_many_followers_of_a_job_share_one_waiting_redis_reader(settings: Settings, store: JobStore) -> None:
    store.create("j1", SPEC)
    store.start("j1", "w1")
    hub, blocks = hub_for(settings)

    async def scenario() -> list[list[str]]:
        async def collect() -> list[str]:
            return [event.id async for batch in hub.follow("j1", "0-0") if batch is not None for event in batch]

        followers = [asyncio.create_task(collect()) for _ in range(50)]
        await asyncio.sleep(0.3)  # all caught up and waiting
        waiting_reads = sum(block is not None for block in blocks)
        await asyncio.to_thread(run_job_after_start, store, "j1")
        received = await asyncio.gather(*followers)
        assert waiting_reads <= 1  # fifty clients, at most one blocked Redis read
        return received

    received = asyncio.run(scenario())
    expected = [event.id for event in store.events("j1")]
    assert all(ids == expected for ids in received)
    assert hub._watches == {}  # the reader went away with its followers


def test_a_follower_behind_the_buffer_catches_up_from_redis_without_loss_or_repeats(
    settings: Settings, store: JobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events_module, "BUFFER_SIZE", 3)
    store.create("j1", SPEC)
    store.start("j1", "w1")
    hub, _ = hub_for(settings)

    async def collect(batches: AsyncIterator[list[JobEvent] | None]) -> list[str]:
        return [event.id async for batch in batches if batch is not None for event in batch]

    async def scenario() -> tuple[list[str], list[str]]:
        first = hub.follow("j1", "0-0")
        early = await anext(first)
        assert early is not None and early[0].type.value == "queued"
        for number in range(1, 11):  # ten steps while that follower pauses: the shared buffer keeps only 3
            await asyncio.to_thread(store.add_step, "j1", step(0, number))
        await asyncio.sleep(0.3)
        late = asyncio.create_task(collect(hub.follow("j1", "0-0")))  # older than the buffer: Redis first
        await asyncio.sleep(0.3)
        await asyncio.to_thread(store.finish, "j1", JobStatus.succeeded)
        return [*(event.id for event in early), *await collect(first)], await late

    paused, late = asyncio.run(asyncio.wait_for(scenario(), 30))
    expected = [event.id for event in store.events("j1")]
    assert len(expected) == 13 and paused == expected and late == expected


@pytest.mark.parametrize("window_s", [0.0, 0.4])
def test_followers_wake_once_per_batch_window_not_once_per_event(
    settings: Settings, store: JobStore, window_s: float
) -> None:
    # 200 open streams each woken per step event kept status polls waiting; a window gathers the steps.
    store.create("j1", SPEC)
    store.start("j1", "w1")
    hub, _ = hub_for(settings, batch_window_s=window_s)

    async def scenario() -> list[list[str]]:
        async def collect() -> list[list[str]]:
            return [[event.id for event in batch] async for batch in hub.follow("j1", "0-0") if batch is not None]

        follower = asyncio.create_task(collect())
        await asyncio.sleep(0.6)  # caught up (queued, started) and waiting
        for number in range(1, 6):  # five steps, 50 ms apart: all within one window
            await asyncio.to_thread(store.add_step, "j1", step(0, number))
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.6)
        await asyncio.to_thread(store.finish, "j1", JobStatus.succeeded)
        return await follower

    batches = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert [event_id for batch in batches for event_id in batch] == [event.id for event in store.events("j1")]
    step_batches = batches[1:-1]  # between the first (queued, started) and the terminal one
    if window_s:
        assert len(step_batches) == 2  # the first step at once, the other four together after the window
    else:
        assert len(step_batches) == 5


def test_followers_wake_a_group_per_turn_of_the_event_loop_so_other_requests_get_in_between(
    settings: Settings, store: JobStore
) -> None:
    # Two hundred streams woken at once each wrote to its socket before the loop polled for anything else: a status
    # poll arriving meanwhile waited for all of them. Now at most WAKE_GROUP of them run per turn.
    store.create("j1", SPEC)
    store.start("j1", "w1")
    hub, _ = hub_for(settings)
    followers = 200

    async def scenario() -> list[int]:
        received = 0

        async def follow() -> None:
            nonlocal received
            async for batch in hub.follow("j1", "0-0"):
                if batch is not None and any(event.type.value == "step" for event in batch):
                    received += 1
                    return

        tasks = [asyncio.create_task(follow()) for _ in range(followers)]
        await asyncio.sleep(0.5)  # all caught up (queued, started) and waiting
        per_turn = []  # how many followers got the step in each turn of the loop, seen from another task

        async def count_per_turn() -> None:
            while received < followers:
                before = received
                await asyncio.sleep(0)
                per_turn.append(received - before)

        counting = asyncio.create_task(count_per_turn())
        await asyncio.to_thread(store.add_step, "j1", step(0, 1))
        await asyncio.gather(counting, *tasks)
        return per_turn

    per_turn = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert sum(per_turn) == followers
    assert max(per_turn) <= events_module.WAKE_GROUP < followers


def test_clients_that_come_and_go_or_wait_on_a_quiet_job_leave_nothing_waiting_behind(
    settings: Settings, store: JobStore
) -> None:
    store.create("j1", SPEC)  # queued, and it stays so: no new event wakes the waiting list
    hub, _ = hub_for(settings)
    hub.heartbeat_s = 0.05  # and the one that stays sends heartbeats meanwhile

    async def scenario() -> int:
        async def read_all() -> None:
            async for _batch in hub.follow("j1", "0-0"):
                pass

        staying = asyncio.create_task(read_all())
        await asyncio.sleep(0.1)  # caught up and waiting
        for _ in range(100):  # each client reads the first batch and goes away
            async with contextlib.aclosing(hub.follow("j1", "0-0")) as batches:
                await anext(batches)
        await asyncio.sleep(0.5)  # ten heartbeats
        waiting = len(hub._watches["j1"]._waiting)
        staying.cancel()
        return waiting

    assert asyncio.run(asyncio.wait_for(scenario(), 30)) == 1  # the one that stayed


def test_a_client_that_leaves_while_its_group_waits_to_be_woken_leaves_quietly(
    settings: Settings, store: JobStore, caplog: pytest.LogCaptureFixture
) -> None:
    store.create("j1", SPEC)
    store.start("j1", "w1")
    hub, _ = hub_for(settings)
    followers = 5 * events_module.WAKE_GROUP  # the last group is woken a few turns after the first

    async def scenario() -> tuple[asyncio.Task[None], int]:
        received = 0
        tasks: list[asyncio.Task[None]] = []

        async def follow() -> None:
            nonlocal received
            async for batch in hub.follow("j1", "0-0"):
                if batch is not None and any(event.type.value == "step" for event in batch):
                    received += 1
                    if received == 1:  # the first group is awake; the last one still waits for its turn
                        tasks[-1].cancel()
                    return

        tasks.extend(asyncio.create_task(follow()) for _ in range(followers))
        await asyncio.sleep(0.5)  # all caught up and waiting
        await asyncio.to_thread(store.add_step, "j1", step(0, 1))
        await asyncio.gather(*tasks, return_exceptions=True)
        return tasks[-1], received

    leaving, received = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert leaving.cancelled()  # as it was asked: not failed by a ValueError from its clean-up
    assert received == followers - 1
    assert "failed" not in caplog.text  # nor did the job's reader stop on the cancelled ticket


def test_a_client_leaving_does_not_cost_the_others_their_wake_up(settings: Settings, store: JobStore) -> None:
    store.create("j1", SPEC)
    store.start("j1", "w1")
    hub, _ = hub_for(settings)  # heartbeats every 5 s: a missed wake-up would show as a 5 s delay

    async def scenario() -> float:
        async def next_step(batches: AsyncIterator[list[JobEvent] | None]) -> None:
            async for batch in batches:
                if batch is not None and any(event.type.value == "step" for event in batch):
                    return

        staying = asyncio.create_task(next_step(hub.follow("j1", "0-0")))
        async with contextlib.aclosing(hub.follow("j1", "0-0")) as leaving:
            await anext(leaving)
            await asyncio.sleep(0.3)  # both caught up and waiting
        started = time.monotonic()
        await asyncio.to_thread(store.add_step, "j1", step(0, 1))
        await staying
        return time.monotonic() - started

    assert asyncio.run(asyncio.wait_for(scenario(), 30)) < 2.0
