"""README section for benchmarks/engine_vs_notebook.py."""

from __future__ import annotations

from typing import Any

from benchmarks.readme_sections._provenance import provenance


def final_images(record: dict[str, Any]) -> str:
    """'identical', or how close the final images came (batched execution rounds differently from the notebook)."""
    if record["final_images_identical"]:
        return "identical"
    return (
        f"{100 * record['final_pixels_within_1_level']:.4f} % of pixels within one level "
        f"(at most {record['final_pixels_max_level_difference']} apart)"
    )


def render(data: dict[str, Any]) -> str:
    setup = data["setup"]
    lines = [
        f"{len(setup['schedulers'])} schedulers, {setup['images']} images, {setup['steps']} steps, a frame every "
        f"{setup['every']}; medians of {setup['repeats']} interleaved repeats, torch on {setup['torch_threads']} "
        f"thread(s); the engine's execution: {setup['execution']}; target: {setup['target']}.",
        "",
        "| model | (a) notebook loop, s | (b) engine, s | b/a | final images, (b) vs (a) |",
        "|---|---|---|---|---|",
    ]
    for run in data["models"]:
        lines.append(
            f"| {run['model']} | {run['notebook_s']['median']:.3f} | {run['engine_s']['median']:.3f} | "
            f"**{run['ratio']:.2f}** | {final_images(run)} |"
        )
    return "\n".join([*lines, "", provenance({**data, "_name": "engine_vs_notebook"})])
