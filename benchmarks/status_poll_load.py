"""Status polling under load: GET /v1/comparisons/{id} at a fixed rate on loopback, latency per request.

Starts `schedlab api` (and, by default, one `schedlab worker` that runs the experiment's comparison to the end,
then stops, so the polled job carries its nine results; `--job queued` polls a job that stays queued instead),
then sends GET /v1/comparisons/{id} open-loop: request i is due at t0 + i/rate whether or not earlier ones have
answered, each in its own task over keep-alive connections, each with a --timeout deadline. Latency is measured
from when a request was sent and from when it was due (the latter also counts any lag of this load generator:
no coordinated omission). Before each load run, 50 requests one at a time give the service time without
queueing. Prints the achieved rate, p50/p90/p99/max in ms, errors and timeouts, and the CPU the API and the load
generator used. Target: p99 <= 10 ms at 200 req/s.

The generator runs on the same machine as the API. `--client httpx` is httpx.AsyncClient; `--client raw` is a
minimal asyncio HTTP/1.1 client that needs about a tenth of httpx's CPU per request, so that on a small machine
the numbers are the API's, not httpx's. `--api-workers 1 2` measures `schedlab api --workers 1`, then 2.
Bounded: rate x duration requests, then at most --timeout + 2 s to drain. Exits 1 only if requests fail (an
error status, a broken connection); timeouts are reported, never fatal, and so is latency.

    python benchmarks/status_poll_load.py [--rate 200] [--duration 30] [--api-workers 1 2] [--client httpx raw]
        [--job succeeded|queued] [--repeats 1]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stack import Stack, cpu_seconds, hard_limit

from tests.harness import wait_until

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for `benchmarks.results`
from benchmarks.results import write_result

# The experiment's nine schedulers (as in engine_vs_notebook.py, not imported from there: it loads torch).
EXPERIMENT = ["euler", "euler_a", "ddim", "ddim_sd_explicit", "ddpm", "dpmpp_2m", "dpmpp_singlestep", "lms", "pndm"]
SPEC = {
    "prompt": "a red circle on a black background",
    "seed": 42,
    "num_images": 4,
    "steps": 30,
    "schedulers": [{"name": name} for name in EXPERIMENT],
    "capture": {"every": 5},
}


TIMEOUT = "timeout"  # no answer within --timeout: slow, not broken


@dataclass
class Result:
    label: str
    planned: int
    wall_s: float = 0.0
    sent_ms: list[float] = field(default_factory=list)  # from send to response, per successful request
    due_ms: list[float] = field(default_factory=list)  # from due time to response
    errors: Counter[str] = field(default_factory=Counter)
    late_ms: list[float] = field(default_factory=list)  # how late each request was sent
    api_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    unloaded_ms: list[float] = field(default_factory=list)  # one request at a time, before the load
    unloaded_api_cpu_ms: float = 0.0  # API CPU per request, one at a time


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]  # nearest rank


class RawPool:
    """A minimal HTTP/1.1 keep-alive GET client on asyncio streams: about a tenth of httpx's CPU per request,
    for when the load generator (not the API) would be the bottleneck on a small machine."""

    def __init__(self, base_url: str, max_connections: int) -> None:
        host_port = base_url.split("://", 1)[1]
        self.host, port = host_port.rsplit(":", 1)
        self.port = int(port)
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.slots = asyncio.Semaphore(max_connections)

    async def get(self, path: str) -> int:
        async with self.slots:
            if self.idle:
                reader, writer = self.idle.pop()
            else:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            try:
                status = await self._exchange(reader, writer, path)
            except BaseException:
                writer.close()
                raise
            self.idle.append((reader, writer))
            return status

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str) -> int:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        return int(lines[0].split()[1])

    async def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


async def open_loop(
    base_url: str, path: str, rate: float, timeout_s: float, result: Result, client_kind: str = "httpx"
) -> None:
    """Request i is due at t0 + i/rate; each is its own task, so a slow answer never delays the next request."""
    interval = 1.0 / rate
    raw = RawPool(base_url, 200) if client_kind == "raw" else None
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout_s) as client:

        async def fetch(path: str) -> int:
            response = await client.get(path)
            await response.aread()
            return response.status_code

        async def one(due: float) -> None:
            sent = time.perf_counter()
            result.late_ms.append((sent - due) * 1000)
            try:  # one deadline for the whole request: waiting for a connection, sending, reading
                status = await asyncio.wait_for(raw.get(path) if raw else fetch(path), timeout_s)
            except (TimeoutError, httpx.TimeoutException):
                result.errors[TIMEOUT] += 1
                return
            except (httpx.HTTPError, OSError, asyncio.IncompleteReadError) as error:
                result.errors[type(error).__name__] += 1
                return
            done = time.perf_counter()
            if status != 200:
                result.errors[f"HTTP {status}"] += 1
                return
            result.sent_ms.append((done - sent) * 1000)
            result.due_ms.append((done - due) * 1000)

        tasks = []
        start = time.perf_counter() + 0.05
        for i in range(result.planned):
            due = start + i * interval
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(due)))
        # Bounded: whatever has not answered shortly after its own timeout is cut off and counted.
        _, pending = await asyncio.wait(tasks, timeout=timeout_s + 2)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if pending:
            result.errors[TIMEOUT] += len(pending)
        result.wall_s = time.perf_counter() - start
        if raw is not None:
            await raw.close()


async def one_at_a_time(base_url: str, path: str, count: int, client_kind: str) -> list[float]:
    """Closed loop, one connection: the service time of a request when nothing else is in flight."""
    latencies = []
    raw = RawPool(base_url, 1) if client_kind == "raw" else None
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        for _ in range(count + 5):  # the first 5 open the connection and are not counted
            started = time.perf_counter()
            if raw is not None:
                await raw.get(path)
            else:
                (await client.get(path)).read()
            latencies.append((time.perf_counter() - started) * 1000)
    if raw is not None:
        await raw.close()
    return latencies[5:]


def run_load(
    stack: Stack, path: str, label: str, client: str, rate: float, duration_s: float, timeout: float
) -> Result:
    def drive(result: Result, rate: float) -> None:
        coroutine = open_loop(stack.base_url, path, rate, timeout, result, client)
        try:
            import uvloop

            uvloop.run(coroutine)
        except ImportError:
            asyncio.run(coroutine)

    result = Result(label, planned=max(1, round(rate * duration_s)))
    assert stack.api is not None
    drive(Result("warm-up", planned=25), 25.0)  # not measured: connections and first requests in every process
    api_cpu = cpu_seconds(stack.api.popen.pid)
    result.unloaded_ms = asyncio.run(one_at_a_time(stack.base_url, path, 50, client))
    result.unloaded_api_cpu_ms = (cpu_seconds(stack.api.popen.pid) - api_cpu) / 55 * 1000
    api_cpu, client_cpu = cpu_seconds(stack.api.popen.pid), time.process_time()
    drive(result, rate)
    result.api_cpu_s = cpu_seconds(stack.api.popen.pid) - api_cpu
    result.client_cpu_s = time.process_time() - client_cpu
    return result


def summary(r: Result) -> dict[str, object]:
    """One load run's figures, as docs/data/status_poll_load.json keeps them."""
    ok = len(r.sent_ms)
    return {
        "label": r.label,
        "sent": ok + sum(r.errors.values()),
        "ok": ok,
        "errors": dict(r.errors),
        "ok_per_s": round(ok / r.wall_s, 1),
        **{f"p{q}_ms": round(percentile(r.sent_ms, q), 2) for q in (50, 90, 99)},
        "max_ms": round(max(r.sent_ms, default=float("nan")), 2),
        "unloaded_p50_ms": round(percentile(r.unloaded_ms, 50), 2),
    }


def report(results: list[Result], rate: float) -> None:
    print(f"\nGET /v1/comparisons/{{id}}, open loop at {rate:g} req/s (target: p99 <= 10 ms)")
    columns = ["sent", "ok", "errors", "ok/s", "p50", "p90", "p99", "max", "p99 due", "late p99", "API cpu", "API cpu"]
    units = ["", "", "", "", "ms", "ms", "ms", "ms", "ms", "ms", "% core", "ms/ok"]
    print(f"{'api, client':<22}" + "".join(f"{c:>9}" for c in columns))
    print(f"{'':<22}" + "".join(f"{u:>9}" for u in units))
    for r in results:
        ok = len(r.sent_ms)
        values = [
            f"{ok + sum(r.errors.values())}",
            f"{ok}",
            f"{sum(r.errors.values())}",
            f"{ok / r.wall_s:.1f}",
            *(f"{percentile(r.sent_ms, q):.2f}" for q in (50, 90, 99)),
            f"{max(r.sent_ms, default=float('nan')):.2f}",
            f"{percentile(r.due_ms, 99):.2f}",
            f"{percentile(r.late_ms, 99):.2f}",
            f"{r.api_cpu_s / r.wall_s * 100:.0f}",
            f"{r.api_cpu_s / max(ok, 1) * 1000:.2f}",
        ]
        print(f"{r.label:<22}" + "".join(f"{v:>9}" for v in values))
        if r.errors:
            print(f"{'':<22}errors: {dict(r.errors)}")
    print(
        "p50..max: send to answer, successful requests; 'p99 due': from the request's due time (counts any lag of "
        "the generator);\n'late p99': how late the generator sent; API cpu: all API processes, "
        "% of one core and ms per successful answer."
    )
    print("\none request at a time (50, before each load run): the service time without queueing")
    for r in results:
        print(
            f"{r.label:<22} p50 {percentile(r.unloaded_ms, 50):7.2f} ms   p99 {percentile(r.unloaded_ms, 99):7.2f} ms"
            f"   API cpu {r.unloaded_api_cpu_ms:6.2f} ms/request   generator cpu at load "
            f"{r.client_cpu_s / max(len(r.sent_ms) + sum(r.errors.values()), 1) * 1000:.2f} ms/request"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=200, help="Requests per second.")
    parser.add_argument("--duration", type=float, default=30, help="Seconds of load per configuration.")
    parser.add_argument("--api-workers", type=int, nargs="+", default=[1], help="`schedlab api --workers` to try.")
    parser.add_argument(
        "--client",
        nargs="+",
        choices=["httpx", "raw"],
        default=["httpx", "raw"],
        help="httpx.AsyncClient and/or a minimal asyncio HTTP/1.1 client that needs far less CPU per request "
        "(on a small machine httpx itself can be the bottleneck).",
    )
    parser.add_argument("--repeats", type=int, default=1, help="Rounds over every configuration (interleaved).")
    parser.add_argument(
        "--job",
        choices=["succeeded", "queued"],
        default="succeeded",
        help="Poll a finished job (one worker runs it first, then stops) or one that stays queued (no worker).",
    )
    parser.add_argument("--timeout", type=float, default=5, help="Per-request timeout (s).")
    parser.add_argument("--hard-limit", type=float, default=900, help="The whole script stops after this (s).")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/data/ as it is")
    args = parser.parse_args()
    if args.duration > 600 or args.rate * args.duration > 200_000:
        parser.error("bounded on purpose: --duration <= 600 and rate x duration <= 200000")

    results: list[Result] = []
    with hard_limit(args.hard_limit), Stack() as stack:
        try:
            stack.start_api(workers=args.api_workers[0])
            if args.job == "succeeded":
                stack.start_worker("w1")
            response = httpx.post(f"{stack.base_url}/v1/comparisons", json=SPEC, timeout=30)
            if response.status_code != 202:
                raise RuntimeError(f"POST answered {response.status_code}: {response.text}")
            job_id = response.json()["id"]
            path = f"/v1/comparisons/{job_id}"
            if args.job == "succeeded":
                job = wait_until(
                    lambda: (
                        (j := httpx.get(stack.base_url + path, timeout=5).json())["status"]
                        in ("succeeded", "failed", "canceled")
                        and j
                    ),
                    300,
                    "the job to finish",
                    interval_s=0.2,
                )
                if job["status"] != "succeeded":
                    raise RuntimeError(f"the job {job['status']}: {job.get('error')}")
                stack.stop_workers()  # the load test measures the API alone
            size = len(httpx.get(stack.base_url + path, timeout=5).content)
            print(f"polling {args.job} job {job_id} ({size} bytes of JSON per response)", flush=True)
            running = args.api_workers[0]
            for _ in range(args.repeats):
                for workers in args.api_workers:
                    if workers != running:
                        stack.start_api(workers=workers)
                        running = workers
                    for client in args.client:
                        label = f"--workers {workers}, {client}"
                        result = run_load(stack, path, label, client, args.rate, args.duration, args.timeout)
                        results.append(result)
                        print(
                            f"  {label}: p50 {percentile(result.sent_ms, 50):.2f} ms, "
                            f"p99 {percentile(result.sent_ms, 99):.2f} ms, errors {sum(result.errors.values())}",
                            flush=True,
                        )
        except BaseException:
            print(stack.logs(), file=sys.stderr)
            raise
    report(results, args.rate)
    if args.repeats > 1:
        print("\nmedians over rounds:")
        for label in dict.fromkeys(r.label for r in results):
            mine = [r for r in results if r.label == label]
            p50 = statistics.median(percentile(r.sent_ms, 50) for r in mine)
            p99 = statistics.median(percentile(r.sent_ms, 99) for r in mine)
            print(f"  {label}: p50 {p50:.2f} ms, p99 {p99:.2f} ms over {len(mine)} rounds")
    broken = sum(count for r in results for kind, count in r.errors.items() if kind != TIMEOUT)
    if not args.no_write:
        setup = {"rate_per_s": args.rate, "duration_s": args.duration, "repeats": args.repeats, "job": args.job}
        path = write_result(
            "status_poll_load",
            {
                "setup": {**setup, "response_bytes": size, "target": "p99 <= 10 ms"},
                "runs": [summary(r) for r in results],
            },
        )
        print(f"wrote {path}; render the README with `python benchmarks/results.py`")
    if broken:
        print(f"FAILED: {broken} requests failed (not timeouts)")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
