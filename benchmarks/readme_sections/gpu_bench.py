"""README section: the original experiment at SD 1.5 size on one GPU (benchmarks/gpu_bench.py)."""

from __future__ import annotations

from typing import Any

TARGET_SECONDS = 20.0
TARGET_SPEEDUP = 2.0


def _memory(peak_bytes: int | None) -> str:
    return f"{peak_bytes / 2**30:.2f} GiB" if peak_bytes else "n/a (CPU)"


def render(data: dict[str, Any]) -> str:
    environment, experiment = data["environment"], data["experiment"]
    lines = [
        f"Measured on one {environment['gpu']} (torch {environment['versions']['torch']}, CUDA {environment['cuda']}), "
        f"`{environment['command']}`, code at {environment['code_commit']}: `{experiment['model']}` "
        f"({experiment['dtype']}, {experiment['size']}², {experiment['images']} images, {experiment['steps']} steps, "
        f"a frame every {experiment['frame_every']} steps, {len(experiment['schedulers'])} variants, frames "
        f"VAE-decoded and PNG-encoded), {experiment['repeats']} timed run per setting after a short warm-up.",
        "",
        "| torch.compile | execution | total s | image-evaluations/s | peak GPU memory | warm-up s |",
        "|---|---|---|---|---|---|",
    ]
    for run in data["runs"]:
        lines.append(
            f"| {'on' if run['compile'] else 'off'} | {run['execution']} | {run['total_s']:.1f} | "
            f"{run['image_evaluations_per_s']:.1f} | {_memory(run['peak_memory_bytes'])} | "
            f"{run['warmup_s']:.1f} |"
        )
    lines.append("")
    for comparison in data["comparisons"]:
        lines.append(
            f"- compile {'on' if comparison['compile'] else 'off'}: batched is "
            f"**{comparison['speedup_batched_over_sequential']:.2f}×** sequential; fp16 final latents differ by up "
            f"to {comparison['final_latents_max_abs_diff']:.3g} (max abs), final pixels within one level: "
            f"{100 * comparison['final_pixels_within_1_level']:.3f} %."
        )
    best = min(run["total_s"] for run in data["runs"])
    best_speedup = max(c["speedup_batched_over_sequential"] for c in data["comparisons"])
    met = "met" if best <= TARGET_SECONDS else "not met"
    met_speedup = "met" if best_speedup >= TARGET_SPEEDUP else "not met"
    lines.append(
        f"- Targets: the experiment in ≤ {TARGET_SECONDS:.0f} s: {met} (best {best:.1f} s); batched ≥ "
        f"{TARGET_SPEEDUP:.0f}× sequential: {met_speedup} (best {best_speedup:.2f}×)."
    )
    return "\n".join(lines) + "\n"
