"""README section: issue 16's sweep acceptance on the demo model (benchmarks/sweep_acceptance.py)."""

from __future__ import annotations

from typing import Any


def render(data: dict[str, Any]) -> str:
    jobs, claims = data["jobs"], data["claims"]
    reference = data["reference"]
    lines = [
        f"Measured by `benchmarks/sweep_acceptance.py` ({data['environment']['cpus']} CPUs, torch threads 1, "
        f"demo model, {data['images_per_cell']} images per cell; reference {reference['scheduler']} at "
        f"{reference['steps']} steps, tolerance: pixel RMSE ≤ {data['tolerance']:g}):",
        "",
        "| job | schedulers | cells | runs (frames + finals) | grids | UNet evaluations | dry-run estimate | "
        "measured running time | estimate / measured |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, job in jobs.items():
        lines.append(
            f"| {label} | {', '.join(job['schedulers'])} | {job['cells']} | {job['runs']} "
            f"({job['runs_with_frames_and_finals']}) | {job['grids']} | {job['unet_evaluations']} | "
            f"{job['estimated_s']:.0f} s | {job['running_s']:.0f} s | {job['estimate_ratio']:.2f} |"
        )
    lines += [
        "",
        "Distance to the reference (pixel RMSE) by steps, and the fewest UNet evaluations per image within the "
        "tolerance:",
        "",
        "| guidance | scheduler | 5 steps | 10 steps | 20 steps | 40 steps | first NFE within tolerance |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in data["curves"]:
        distances = [f"{row['distance_by_steps'].get(str(steps), float('nan')):.3f}" for steps in (5, 10, 20, 40)]
        reached = row["first_nfe_within_tolerance"]
        lines.append(
            f"| {row['guidance_scale']:g} | {row['scheduler']} | {' | '.join(distances)} | "
            f"{reached if reached is not None else 'never'} |"
        )
    lines += [
        "",
        f"- DPM++ 2M and UniPC reach the reference's neighbourhood in fewer evaluations than Euler and DDIM: "
        f"**{'yes' if claims['fast_solvers_reach_the_reference_in_fewer_evaluations'] else 'no'}**",
        f"- ancestral schedulers (Euler a, DPM2 a) never get within the tolerance: "
        f"**{'yes' if claims['ancestral_schedulers_never_within_tolerance'] else 'no'}**",
        f"- every dry-run estimate within a factor of 2 of the measured running time: "
        f"**{'yes' if claims['estimates_within_factor_2'] else 'no'}**",
    ]
    return "\n".join(lines) + "\n"
