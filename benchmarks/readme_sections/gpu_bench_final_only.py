"""README section: the GPU experiment with only the final image decoded, beside the one with frames (gpu_bench.py)."""

from __future__ import annotations

from typing import Any

from benchmarks.results import read_result


def _by_mode(data: dict[str, Any]) -> dict[str, float]:
    return {run["execution"]: run["total_s"] for run in data["runs"] if not run["compile"]}


def render(data: dict[str, Any]) -> str:
    with_frames = read_result("gpu_bench")
    final_only, framed = _by_mode(data), _by_mode(with_frames)
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
            f"Without frames, batched is {final_only['sequential'] / final_only['batched']:.2f}× sequential: the "
            "UNet at 8 samples (4 images × 2 for guidance) already keeps this GPU busy at 512², so gathering 72 "
            "samples per call gains little, and the ≥ 2× target is out of reach on this card for this job.",
        ]
    return "\n".join(lines) + "\n"
