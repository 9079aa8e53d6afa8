"""Following jobs' event streams in the API process: one Redis reader per watched job, however many clients watch.

Every client reads its own way through the job's Redis Stream (from its `Last-Event-ID`), so nothing depends on this
process's memory and any replica serves any client. What the process shares is the waiting: one task per watched
job blocks on Redis (XREAD BLOCK) and keeps the events it saw in a bounded buffer; clients that have caught up take
new events from that buffer instead of each holding a blocked Redis connection of its own. A client behind the
buffer (a late joiner with an old `Last-Event-ID`) reads Redis directly until it has caught up.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
from collections.abc import AsyncIterator

from service.job_store import JobEvent, JobReader

logger = logging.getLogger(__name__)

BUFFER_SIZE = 4096  # events kept per watched job; older ones are read from Redis
WAKE_GROUP = 20  # followers woken per turn of the event loop


def event_order(event_id: str) -> tuple[int, int]:
    """A Redis Stream id (`<ms>-<seq>`) as a sortable pair."""
    milliseconds, _, sequence = event_id.partition("-")
    return int(milliseconds), int(sequence or 0)


class _Watch:
    """One watched job: the events its reader task saw after `origin`, and the followers waiting for more."""

    def __init__(self, origin: str) -> None:
        self.origin = event_order(origin)  # every event after this id is in `events`
        self.last_id = origin
        self.events: list[JobEvent] = []
        self.orders: list[tuple[int, int]] = []
        self.ended = False  # the job's terminal event was seen, or the job expired, or reading failed
        self.followers = 0
        self.task: asyncio.Task[None] | None = None
        self._waiting: list[asyncio.Future[None]] = []

    def after(self, cursor: str) -> list[JobEvent] | None:
        """Events after `cursor` from the buffer, or None when the buffer does not reach back that far."""
        order = event_order(cursor)
        if order < self.origin:
            return None
        return self.events[bisect.bisect_right(self.orders, order) :]

    def add(self, batch: list[JobEvent]) -> None:
        for event in batch:
            self.events.append(event)
            self.orders.append(event_order(event.id))
        self.last_id = batch[-1].id
        if len(self.events) > BUFFER_SIZE:
            dropped = len(self.events) - BUFFER_SIZE
            self.origin = self.orders[dropped - 1]
            del self.events[:dropped], self.orders[:dropped]
        self.ended |= any(event.type.is_terminal for event in batch)

    def next_change(self) -> asyncio.Future[None]:
        """Done at the next `wake_followers`: the follower's ticket to wait on."""
        ticket = asyncio.get_running_loop().create_future()
        self._waiting.append(ticket)
        return ticket

    def withdraw(self, ticket: asyncio.Future[None]) -> None:
        """A follower left or timed out: else clients coming and going on a quiet job would pile up tickets."""
        with contextlib.suppress(ValueError):  # not there: a wake in progress holds it (and skips it if cancelled)
            self._waiting.remove(ticket)

    async def end(self) -> None:
        """No more events will come (terminal event seen, job expired, or reading failed): wake everyone to see."""
        self.ended = True
        await self.wake_followers()

    async def wake_followers(self) -> None:
        """Wake every waiting follower, WAKE_GROUP per turn of the event loop, so that other requests get the loop
        between groups instead of after all the followers' writes."""
        waiting, self._waiting = self._waiting, []
        for start in range(0, len(waiting), WAKE_GROUP):
            if start:
                await asyncio.sleep(0)  # one turn: the loop polls its sockets and runs what is ready
            for ticket in waiting[start : start + WAKE_GROUP]:
                if not ticket.done():  # cancelled: its follower timed out (heartbeat) or left meanwhile
                    ticket.set_result(None)


class JobEventHub:
    """Follows jobs' event streams for this API process's clients."""

    def __init__(self, reader: JobReader, heartbeat_s: float, batch_window_s: float = 0.0) -> None:
        self.reader = reader
        self.heartbeat_s = heartbeat_s
        self.batch_window_s = batch_window_s
        self._watches: dict[str, _Watch] = {}

    async def follow(self, job_id: str, cursor: str) -> AsyncIterator[list[JobEvent] | None]:
        """The job's events after `cursor`, then the new ones as they come, in batches, until the terminal event.

        A batch is every event this process has and the follower has not seen, so a stream writes them at once.
        Yields None when nothing happened for a heartbeat interval. Ends after the terminal event, or at once when
        the job had already ended before `cursor`, or when the job has expired.
        """
        watch = self._watch(job_id, cursor)
        ticket: asyncio.Future[None] | None = None
        try:
            while True:
                if ticket is None or ticket.done():  # taken before reading: a batch added meanwhile still wakes it
                    ticket = watch.next_change()
                batch = watch.after(cursor)
                from_buffer = batch is not None
                if batch is None:  # behind the buffer: catch up from Redis
                    batch = await self.reader.read(job_id, cursor, None)
                if not batch and watch.ended:
                    # The terminal event was delivered before `cursor`, or the reader stopped: Redis decides.
                    batch, from_buffer = await self.reader.read(job_id, cursor, None), False
                    if not batch:
                        return
                if batch:
                    # The buffer holds a terminal event only once the watch has ended: most wake-ups skip the scan.
                    if watch.ended or not from_buffer:
                        terminal = next((i for i, event in enumerate(batch) if event.type.is_terminal), None)
                        if terminal is not None:
                            yield batch[: terminal + 1]
                            return
                    yield batch
                    cursor = batch[-1].id
                    continue
                try:
                    async with asyncio.timeout(self.heartbeat_s):  # no task per wait, unlike asyncio.wait_for
                        await ticket
                except TimeoutError:  # the timeout cancelled the ticket: the next turn takes a new one
                    watch.withdraw(ticket)
                    yield None
        finally:
            if ticket is not None:
                watch.withdraw(ticket)
            watch.followers -= 1
            if watch.followers == 0 and self._watches.get(job_id) is watch:
                del self._watches[job_id]
                if watch.task is not None:
                    watch.task.cancel()

    def _watch(self, job_id: str, cursor: str) -> _Watch:
        watch = self._watches.get(job_id)
        if watch is None:
            watch = self._watches[job_id] = _Watch(cursor)
            watch.task = asyncio.create_task(self._read(job_id, watch), name=f"schedlab-events-{job_id}")
        watch.followers += 1
        return watch

    async def _read(self, job_id: str, watch: _Watch) -> None:
        """Block on the job's stream in Redis and hand each batch to the watch, until the job ends."""
        block_ms: int | None = None  # the first read takes what is there, so a finished job ends at once
        try:
            while not watch.ended:
                batch = await self.reader.read(job_id, watch.last_id, block_ms)
                if batch:
                    watch.add(batch)
                    await watch.wake_followers()
                    if self.batch_window_s and not watch.ended:
                        # Let the next events gather: every follower wakes once per window, not once per event.
                        await asyncio.sleep(self.batch_window_s)
                    continue
                status = await self.reader.status(job_id)
                if status is None or status.is_terminal:
                    batch = await self.reader.read(job_id, watch.last_id, None)  # it may have landed just now
                    if batch:
                        watch.add(batch)
                    await watch.end()
                block_ms = int(self.heartbeat_s * 1000)
        except asyncio.CancelledError:
            raise
        except Exception:  # followers fall back to reading Redis themselves, and fail there if it is down
            logger.exception("reading the events of job %s failed", job_id)
            await watch.end()
