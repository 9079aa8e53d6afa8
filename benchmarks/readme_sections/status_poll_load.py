"""README section for benchmarks/status_poll_load.py."""

from __future__ import annotations

from typing import Any

from benchmarks.readme_sections._provenance import provenance


def render(data: dict[str, Any]) -> str:
    setup = data["setup"]
    lines = [
        f"`GET /v1/comparisons/{{id}}` of a {setup['job']} 9-scheduler job ({setup['response_bytes'] / 1000:.0f} KB "
        f"of JSON), open loop at {setup['rate_per_s']:g} req/s for {setup['duration_s']:g} s per run, "
        f"{setup['repeats']} round(s); target: {setup['target']}.",
        "",
        "| API processes, client | sent | ok/s | errors | p50 ms | p90 ms | p99 ms | max ms | one at a time, p50 ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in data["runs"]:
        errors = sum(run["errors"].values())
        lines.append(
            f"| {run['label']} | {run['sent']} | {run['ok_per_s']:g} | {errors} | {run['p50_ms']:.2f} | "
            f"{run['p90_ms']:.2f} | **{run['p99_ms']:.2f}** | {run['max_ms']:.2f} | {run['unloaded_p50_ms']:.2f} |"
        )
    met = [run["label"] for run in data["runs"] if not run["errors"] and run["p99_ms"] <= 10]
    verdict = f"Target met by: {', '.join(met)}." if met else "Target not met on this run."
    if any(run["errors"] for run in data["runs"]):
        verdict += " Errors are timeouts (5 s): the load generator itself ran short of CPU on the busy machine."
    return "\n".join([*lines, "", verdict, "", provenance({**data, "_name": "status_poll_load"})])
