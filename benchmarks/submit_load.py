"""Submissions against a full queue: does the cap hold, is every refusal a clean 429, and is no accepted job lost?

Starts `schedlab api` with a small queue cap (SCHEDLAB_MAX_QUEUE_DEPTH, default 50) and no worker, so the queue
fills and stays full, then sends POST /v1/comparisons (default 2000 of them) from 50 concurrent connections
(asyncio + httpx.AsyncClient), for at most --duration seconds. Counts 202 (accepted), 429 (refused; with or
without Retry-After) and anything else. Then checks that every accepted job is still there: GET of each accepted
id answers 200 with status queued, and the number of queued jobs equals rq's queue depth (read from Redis),
the API's own queue_depth (/readyz) and the accepted count, which must not exceed the cap. Finally cancels every
accepted job through the API, checks the queue is empty and takes a new job again, and deletes the Redis keys.

Prints the table. Exits 1 if an accepted job is lost or not queued, the counts disagree, the cap is exceeded, a
429 lacks Retry-After, or any request fails otherwise; never on time.

    python benchmarks/submit_load.py [--requests 2000] [--concurrency 50] [--max-queue-depth 50] [--duration 120]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stack import Stack, cpu_seconds, hard_limit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for `benchmarks.results`
from benchmarks.results import write_result

SPEC = {
    "prompt": "a red circle on a black background",
    "seed": 42,
    "num_images": 4,
    "steps": 30,
    "schedulers": [{"name": "euler"}, {"name": "dpmpp_2m"}],
    "capture": {"every": 5},
}


@dataclass
class Submissions:
    accepted: list[str] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    retry_after: Counter[str] = field(default_factory=Counter)  # values of Retry-After on 429s ("missing" if none)
    latency_ms: dict[str, list[float]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    sent: int = 0
    wall_s: float = 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


async def pool(count: int, concurrency: int, deadline: float, task: Callable[[int], Awaitable[None]]) -> int:
    """Run task(0..count-1) on `concurrency` coroutines, starting no new one after `deadline`; returns how many ran."""
    next_index = 0

    async def runner() -> None:
        nonlocal next_index
        while next_index < count and time.monotonic() < deadline:
            index = next_index
            next_index += 1
            await task(index)

    await asyncio.gather(*(runner() for _ in range(concurrency)))
    return next_index


async def submit_all(base_url: str, total: int, concurrency: int, duration_s: float, out: Submissions) -> None:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:

        async def submit(index: int) -> None:
            started = time.perf_counter()
            try:
                response = await client.post("/v1/comparisons", json=SPEC)
            except httpx.HTTPError as error:
                out.statuses[f"error {type(error).__name__}"] += 1
                return
            code = response.status_code
            out.latency_ms.setdefault(str(code), []).append((time.perf_counter() - started) * 1000)
            out.statuses[str(code)] += 1
            if code == 202:
                out.accepted.append(response.json()["id"])
            elif code == 429:
                out.retry_after[response.headers.get("retry-after", "missing")] += 1
            elif len(out.problems) < 5:
                out.problems.append(f"POST answered {code}: {response.text[:300]}")

        started = time.perf_counter()
        out.sent = await pool(total, concurrency, time.monotonic() + duration_s, submit)
        out.wall_s = time.perf_counter() - started


async def for_each(base_url: str, ids: list[str], concurrency: int, call: str) -> dict[str, tuple[int, Any]]:
    """GET each job, or POST its cancel; returns id -> (HTTP status, JSON body or None)."""
    answers: dict[str, tuple[int, Any]] = {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:

        async def one(index: int) -> None:
            job_id = ids[index]
            try:
                if call == "get":
                    response = await client.get(f"/v1/comparisons/{job_id}")
                else:
                    response = await client.post(f"/v1/comparisons/{job_id}/cancel")
                body = response.json() if response.headers.get("content-type", "").endswith("json") else None
                answers[job_id] = (response.status_code, body)
            except (httpx.HTTPError, ValueError) as error:
                answers[job_id] = (-1, repr(error))

        await pool(len(ids), concurrency, time.monotonic() + 300, one)
    return answers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="POSTs to send (at most).")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--max-queue-depth", type=int, default=50, help="SCHEDLAB_MAX_QUEUE_DEPTH for the API.")
    parser.add_argument("--duration", type=float, default=120, help="Send no new POST after this many seconds.")
    parser.add_argument("--api-workers", type=int, default=1, help="`schedlab api --workers`.")
    parser.add_argument("--hard-limit", type=float, default=900, help="The whole script stops after this (s).")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/data/ as it is")
    args = parser.parse_args()
    if args.requests > 100_000 or args.concurrency > 500 or args.duration > 600:
        parser.error("bounded on purpose: --requests <= 100000, --concurrency <= 500, --duration <= 600")

    cap = args.max_queue_depth
    out = Submissions()
    failures: list[str] = []
    rows: list[tuple[str, object]] = []
    with hard_limit(args.hard_limit), Stack(extra_env={"SCHEDLAB_MAX_QUEUE_DEPTH": str(cap)}) as stack:
        try:
            stack.start_api(workers=args.api_workers)
            base = stack.base_url

            # 1. The flood
            assert stack.api is not None
            api_cpu, client_cpu = cpu_seconds(stack.api.popen.pid), time.process_time()
            asyncio.run(submit_all(base, args.requests, args.concurrency, args.duration, out))
            api_cpu, client_cpu = cpu_seconds(stack.api.popen.pid) - api_cpu, time.process_time() - client_cpu
            accepted = out.accepted
            refused = out.statuses["429"]
            other = out.sent - len(accepted) - refused
            missing_retry_after = out.retry_after["missing"]

            # 2. Is every accepted job still there, and queued?
            answers = asyncio.run(for_each(base, accepted, args.concurrency, "get"))
            queued = sum(1 for code, body in answers.values() if code == 200 and body["status"] == "queued")
            not_there = [job_id for job_id, (code, _) in answers.items() if code != 200]
            not_queued = [
                job_id for job_id, (code, body) in answers.items() if code == 200 and body["status"] != "queued"
            ]
            positions = sorted(body["queue_position"] for code, body in answers.values() if code == 200)
            in_rq = set(stack.rq_queue_ids())
            rq_depth = len(in_rq)
            api_depth = httpx.get(f"{base}/readyz", timeout=10).json().get("queue_depth")
            indexed = stack.redis.zcard(stack.keys.jobs_index())
            lost_from_rq = [job_id for job_id in accepted if job_id not in in_rq]
            strays_in_rq = sorted(in_rq - set(accepted))

            # 3. Cancel them all; the queue empties and takes a job again.
            cancels = asyncio.run(for_each(base, accepted, args.concurrency, "cancel"))
            canceled = sum(1 for code, body in cancels.values() if code == 202 and body["status"] == "canceled")
            depth_after_cancel = stack.rq_depth()
            again = httpx.post(f"{base}/v1/comparisons", json=SPEC, timeout=30)
            if again.status_code == 202:
                httpx.post(f"{base}/v1/comparisons/{again.json()['id']}/cancel", timeout=30)
        except BaseException:
            print(stack.logs(), file=sys.stderr)
            raise

    rows = [
        ("POSTs sent", f"{out.sent} of {args.requests} in {out.wall_s:.1f} s ({out.sent / out.wall_s:.0f}/s)"),
        (
            "CPU per POST",
            f"API {api_cpu / max(out.sent, 1) * 1000:.2f} ms, this load generator "
            f"{client_cpu / max(out.sent, 1) * 1000:.2f} ms (same machine)",
        ),
        ("accepted (202)", len(accepted)),
        ("refused (429)", refused),
        ("  with Retry-After", f"{refused - missing_retry_after}  values {dict(out.retry_after)}"),
        (
            "other answers / errors",
            f"{other}  {dict((k, v) for k, v in out.statuses.items() if k not in ('202', '429'))}",
        ),
        ("queue cap", cap),
        ("accepted jobs GET 200 + queued", f"{queued} of {len(accepted)}"),
        ("queue positions", f"{positions[0]}..{positions[-1]}" if positions else "-"),
        ("rq queue depth (Redis)", rq_depth),
        ("API queue_depth (/readyz)", api_depth),
        ("job index entries", indexed),
        ("canceled afterwards (202)", f"{canceled} of {len(accepted)}; rq depth after: {depth_after_cancel}"),
        ("POST after draining", again.status_code),
    ]
    for code, values in sorted(out.latency_ms.items()):
        rows.append(
            (
                f"POST latency, {code} answers",
                f"p50 {percentile(values, 50):.1f} ms, p99 {percentile(values, 99):.1f} ms, max {max(values):.1f} ms",
            )
        )
    print(
        f"\nPOST /v1/comparisons x {args.requests}, concurrency {args.concurrency}, no worker, "
        f"SCHEDLAB_MAX_QUEUE_DEPTH={cap}, api --workers {args.api_workers}"
    )
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")

    if len(accepted) > cap:
        failures.append(f"the cap did not hold: {len(accepted)} jobs accepted with a cap of {cap}")
    if missing_retry_after:
        failures.append(f"{missing_retry_after} 429 answers without Retry-After")
    if other:
        failures.append(f"{other} answers neither 202 nor 429: {out.problems}")
    if not_there or not_queued:
        failures.append(f"accepted jobs lost: {len(not_there)} not found, {len(not_queued)} not queued")
    if lost_from_rq or strays_in_rq:
        failures.append(f"rq's queue disagrees: {len(lost_from_rq)} accepted jobs missing, {len(strays_in_rq)} extra")
    if not (queued == rq_depth == api_depth == indexed == len(accepted)):
        failures.append(
            f"counts disagree: queued {queued}, rq {rq_depth}, API {api_depth}, index {indexed}, "
            f"accepted {len(accepted)}"
        )
    if canceled != len(accepted) or depth_after_cancel != 0 or again.status_code != 202:
        failures.append(
            f"cleanup through the API: {canceled} of {len(accepted)} canceled, rq depth {depth_after_cancel}, "
            f"new POST {again.status_code}"
        )
    if not args.no_write:
        setup = {"requests": args.requests, "concurrency": args.concurrency, "api_workers": args.api_workers}
        path = write_result(
            "submit_load",
            {
                "setup": {**setup, "max_queue_depth": cap, "worker": None},
                "sent": out.sent,
                "accepted": len(accepted),
                "refused_429": refused,
                "refused_with_retry_after": refused - missing_retry_after,
                "other_answers": other,
                "accepted_still_queued": queued,
                "rq_queue_depth": rq_depth,
                "canceled_afterwards": canceled,
                "post_latency_ms": {
                    code: {"p50": round(percentile(v, 50), 1), "p99": round(percentile(v, 99), 1)}
                    for code, v in sorted(out.latency_ms.items())
                },
                "failures": failures,
            },
        )
        print(f"wrote {path}; render the README with `python benchmarks/results.py`")
    for failure in failures:
        print(f"FAILED: {failure}")
    if not failures:
        print("OK: the cap held, every refusal was a 429 with Retry-After, every accepted job is queued and in rq")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
