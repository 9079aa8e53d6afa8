"""README section for benchmarks/service_vs_notebook.py."""

from __future__ import annotations

from typing import Any

from benchmarks.readme_sections._provenance import provenance
from benchmarks.readme_sections.engine_vs_notebook import final_images


def render(data: dict[str, Any]) -> str:
    setup, phases, cpu = data["setup"], data["service_phases"], data["cpu_s"]
    busy = (
        f" The machine was busy: the notebook waited {data['waited_for_cpu_s']['notebook']:.1f} s and the worker "
        f"{data['waited_for_cpu_s']['worker']:.1f} s for a CPU (medians), so the CPU ratio says more than wall time."
        if data["machine_busy"]
        else ""
    )
    lines = [
        f"{setup['model']} model, {len(setup['schedulers'])} schedulers, {setup['images']} images, {setup['steps']} "
        f"steps, a frame every {setup['every']}, polled every {setup['poll_ms']:g} ms; medians of {setup['repeats']} "
        f"interleaved repeats; the worker's execution: {setup['execution']}; target: {setup['target']}.",
        "",
        "| (a) notebook loop, s | (b) service, POST to `succeeded` seen, s | b/a | worker CPU / notebook CPU | "
        "final images, (b) vs (a) |",
        "|---|---|---|---|---|",
        f"| {data['notebook_s']['median']:.3f} | {data['service_s']['median']:.3f} | **{data['ratio']:.2f}** | "
        f"{data['cpu_ratio_worker_over_notebook']:.2f} | {final_images(data)} |",
        "",
        f"(b) = queued {phases['queued_ms']} ms + running {phases['running_s']:.3f} s + until a poll saw it "
        f"{phases['seen_after_ms']} ms. CPU seconds: notebook {cpu['notebook']:.2f}; worker {cpu['worker']:.2f}, "
        f"API {cpu['api']:.2f}, polling client {cpu['poller']:.2f}.{busy}",
    ]
    return "\n".join([*lines, "", provenance({**data, "_name": "service_vs_notebook"})])
