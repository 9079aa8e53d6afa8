"""README section: batched vs sequential execution on the CPU (data: benchmarks/batched_vs_sequential.py)."""

from __future__ import annotations

from typing import Any


def render(data: dict[str, Any]) -> str:
    experiment, environment = data["experiment"], data["environment"]
    lines = [
        f"The experiment's {len(experiment['schedulers'])} variants, {experiment['images']} images, "
        f"{experiment['steps']} steps, a frame every {experiment['frame_every']} (VAE-decoded and stored), "
        f"{experiment['device'].upper()} {experiment['dtype']}, torch threads: {experiment['torch_threads']}, "
        f"medians of {experiment['repeats']} interleaved repeats ({environment['cpus']} cores, torch "
        f"{environment['versions']['torch']}, measured {environment['measured_at'][:10]} with "
        f"`{environment['command']}`):",
        "",
        "| model | sequential | batched | speed-up | largest final-latent difference | fewest pixels within ±1 |",
        "|---|---|---|---|---|---|",
    ]
    for result in data["results"]:
        worst = max(result["agreement"], key=lambda row: row["final_latents_max_abs_diff"])
        fewest = min(row["final_pixels_within_1_level"] for row in result["agreement"])
        lines.append(
            f"| `{result['model']}` | {result['sequential_median_s']:.2f} s | {result['batched_median_s']:.2f} s | "
            f"**{result['speedup']:.2f}x** | {worst['final_latents_max_abs_diff']:.1e} ({worst['scheduler']}, "
            f"latents up to {worst['final_latents_max_abs']:.0f}) | {100 * fewest:.2f} % |"
        )
    lines += ["", "Final-latent difference per scheduler (max abs, batched vs sequential):", ""]
    names = [row["scheduler"] for row in data["results"][0]["agreement"]]
    lines.append("| model | " + " | ".join(names) + " |")
    lines.append("|---" * (len(names) + 1) + "|")
    for result in data["results"]:
        cells = [f"{row['final_latents_max_abs_diff']:.0e}" for row in result["agreement"]]
        lines.append(f"| `{result['model']}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
