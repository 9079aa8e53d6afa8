"""README section: event streams under load (benchmarks/event_stream_load.py)."""

from __future__ import annotations

from typing import Any


def _verdict(value: float, target: float) -> str:
    return "met" if value <= target else "**missed**"


def render(data: dict[str, Any]) -> str:
    env = data["environment"]
    job = data["job"]
    delay, poll, targets = data["delay_ms"], data["poll_ms"], data["targets"]
    base = data["baseline_one_stream"]
    return "\n".join(
        [
            f"`{env['command']}` — one `schedlab api` process, {data['streams']} open event streams on a running "
            f"job ({job['model']} model, {', '.join(job['schedulers'])}, {job['steps']} steps, a frame every "
            f"{job['capture_every']}) while status is polled at {data['poll_rate_per_s']:g} req/s (stream readers: "
            f"{data['stream_readers']}); "
            f"{env['cpus']} CPUs, measured {env['measured_at']}.",
            "",
            "| | p50 | p99 | max | target (p99) |",
            "|---|---|---|---|---|",
            f"| step recorded by the worker → received by a subscriber | {delay['p50']:.0f} ms "
            f"| {delay['p99']:.0f} ms | {delay['max']:.0f} ms "
            f"| ≤ {targets['delay_p99_ms']} ms: {_verdict(delay['p99'], targets['delay_p99_ms'])} |",
            f"| status poll, from when it was due | {poll['p50']:.1f} ms | {poll['p99']:.1f} ms | {poll['max']:.1f} ms "
            f"| ≤ {targets['poll_p99_ms']} ms: {_verdict(poll['p99'], targets['poll_p99_ms'])} |",
            f"| the same with 1 stream (baseline, just before) | {base['delay_ms']['p50']:.0f} ms / "
            f"{base['poll_ms']['p50']:.1f} ms | {base['delay_ms']['p99']:.0f} ms / {base['poll_ms']['p99']:.1f} ms "
            f"| {base['delay_ms']['max']:.0f} ms / {base['poll_ms']['max']:.1f} ms | delay / poll |",
            "",
            f"Every stream received every one of the job's {data['events_per_stream']} events, in order, once: "
            f"{data['streams_complete']} of {data['streams']}. The job ran {data['job_running_s']} s; the API's threads"
            f" waited {data['api_runqueue_wait_s_while_running']} s of it for a CPU (machine load average "
            f"{data['machine_load_average_1m']}; the API, the worker and the stream readers share the cores)."
            + _cpu(data)
            + f" The API wakes its streams at most every {data['events_batch_window_s'] * 1000:.0f} ms"
            " (`SCHEDLAB_EVENTS_BATCH_WINDOW_S`) and each writes the events gathered meanwhile at once."
            + _repeats(data.get("repeats", [])),
        ]
    )


def _cpu(data: dict[str, Any]) -> str:
    cpu = data["cpu_s_while_running"]
    available = data["environment"]["cpus"] * data["job_running_s"]
    return (
        f" CPU used meanwhile, of {available:.1f} CPU-seconds: API {cpu['api']} s, worker {cpu['worker']} s,"
        f" stream readers {cpu['stream_readers']} s, poller {cpu['poller']} s."
    )


def _repeats(repeats: list[dict[str, float]]) -> str:
    if len(repeats) < 2:
        return ""
    polls = " / ".join(f"{r['poll_p99_ms']:.1f}" for r in repeats)
    delays = " / ".join(f"{r['delay_p99_ms']:.0f}" for r in repeats)
    return (
        f" The loaded run was repeated {len(repeats)} times and the table shows the one with the median poll p99;"
        f" in run order, poll p99 {polls} ms, delay p99 {delays} ms."
    )
