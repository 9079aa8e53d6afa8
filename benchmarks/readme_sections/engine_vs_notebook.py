"""README section for benchmarks/engine_vs_notebook.py."""

from __future__ import annotations

from typing import Any

from benchmarks.readme_sections._provenance import provenance


def render(data: dict[str, Any]) -> str:
    setup = data["setup"]
    lines = [
        f"{len(setup['schedulers'])} schedulers, {setup['images']} images, {setup['steps']} steps, a frame every "
        f"{setup['every']}; medians of {setup['repeats']} interleaved repeats, torch on {setup['torch_threads']} "
        f"thread(s); target: {setup['target']}.",
        "",
        "| model | (a) notebook loop, s | (b) engine, s | b/a | final images identical |",
        "|---|---|---|---|---|",
    ]
    for run in data["models"]:
        lines.append(
            f"| {run['model']} | {run['notebook_s']['median']:.3f} | {run['engine_s']['median']:.3f} | "
            f"**{run['ratio']:.2f}** | {'yes' if run['final_images_identical'] else '**no**'} |"
        )
    return "\n".join([*lines, "", provenance({**data, "_name": "engine_vs_notebook"})])
