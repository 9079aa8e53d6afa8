"""README section: the GPU experiment with only the final image decoded, beside the one with frames (gpu_bench.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.results import read_result

EARLIER_RUN = Path(__file__).resolve().parents[2] / "docs" / "gpu" / "run1-gpu_bench_final_only.json"


def _by_mode(data: dict[str, Any]) -> dict[str, float]:
    return {run["execution"]: run["total_s"] for run in data["runs"] if not run["compile"]}


def render(data: dict[str, Any]) -> str:
    with_frames = read_result("gpu_bench")
    final_only, framed = _by_mode(data), _by_mode(with_frames)
    earlier = _by_mode(json.loads(EARLIER_RUN.read_text()))
    every_final, every_framed = data["experiment"]["frame_every"], with_frames["experiment"]["frame_every"]
    lines = [
        f"The same experiment with a frame every {every_final} steps (only the final image decoded), "
        f"`{data['environment']['command']}`, same machine and code, torch.compile off:",
        "",
        f"| execution | final image only, s | a frame every {every_framed} steps, s | what the frames cost, s |",
        "|---|---|---|---|",
    ]
    for mode in ("batched", "sequential"):
        if mode in final_only and mode in framed:
            lines.append(
                f"| {mode} | {final_only[mode]:.1f} | {framed[mode]:.1f} | {framed[mode] - final_only[mode]:.1f} |"
            )
    if {"batched", "sequential"} <= final_only.keys():
        lines += [
            "",
            f"Without frames, batched is {final_only['sequential'] / final_only['batched']:.2f}× sequential. One "
            "timed run per setting: an earlier lending of the same card at near-identical code "
            f"(`{EARLIER_RUN.relative_to(EARLIER_RUN.parents[2])}`) measured batched {earlier['batched']:.1f} s and "
            f"sequential {earlier['sequential']:.1f} s "
            f"({earlier['sequential'] / earlier['batched']:.2f}×), so repeat the run before trusting the ratio.",
        ]
    return "\n".join(lines) + "\n"
