"""README section for benchmarks/submit_load.py."""

from __future__ import annotations

from typing import Any

from benchmarks.readme_sections._provenance import provenance


def render(data: dict[str, Any]) -> str:
    setup = data["setup"]
    latency = "; ".join(
        f"{code}: p50 {v['p50']:.1f} ms, p99 {v['p99']:.1f} ms" for code, v in data["post_latency_ms"].items()
    )
    verdict = "nothing accepted was lost" if not data["failures"] else "FAILED: " + "; ".join(data["failures"])
    lines = [
        f"{data['sent']} of {setup['requests']} submits at concurrency {setup['concurrency']} against a queue cap of "
        f"{setup['max_queue_depth']}, {setup['api_workers']} API process(es), no worker: **{data['accepted']}** "
        f"accepted, **{data['refused_429']}** `429` ({data['refused_with_retry_after']} with `Retry-After`), "
        f"{data['other_answers']} other answers; {data['accepted_still_queued']} accepted jobs still queued, "
        f"{data['rq_queue_depth']} in rq, {data['canceled_afterwards']} canceled afterwards through the API: "
        f"{verdict}. POST latency by answer: {latency}.",
    ]
    return "\n".join([*lines, "", provenance({**data, "_name": "submit_load"})])
