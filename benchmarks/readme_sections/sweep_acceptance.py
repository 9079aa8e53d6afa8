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
        "| job | schedulers | cells | runs (frames + finals) | grids | UNet evaluations | priced as: UNet calls / "
        "samples / decoded images | worker's runs fitted | dry-run estimate | measured running time | "
        "estimate / measured |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, job in jobs.items():
        work = job["estimated_work"]
        lines.append(
            f"| {label} | {', '.join(job['schedulers'])} | {job['cells']} | {job['runs']} "
            f"({job['runs_with_frames_and_finals']}) | {job['grids']} | {job['unet_evaluations']} | "
            f"{work['unet_calls']} / {work['unet_samples']} / {work['decoded_images']} | "
            f"{job['cost_model']['runs_fitted']} | {job['estimated_s']:.0f} s | {job['running_s']:.0f} s | "
            f"{job['estimate_ratio']:.2f} |"
        )
    lines += [
        "",
        "A dry run prices a job by the worker's cost model (seconds per UNet call, per sample in a call and per "
        "decoded image, fitted to its three warm-up runs and the jobs it finished) applied to the UNet calls the "
        "job's lock-step ticks make: evaluations alone cannot price it, batched runs share each call.",
        "",
        "Distance to the reference by steps — pixel RMSE (median over a cell's images) / relative latent distance — "
        "and the fewest UNet evaluations per image within each tolerance (pixel "
        f"{data['tolerance']:g}, pixel {data['tight_tolerance']:g}, latent {data['latent_tolerance']:g}):",
        "",
        "| guidance | scheduler | 5 steps | 10 steps | 20 steps | 40 steps | first NFE: pixel "
        f"{data['tolerance']:g} / {data['tight_tolerance']:g} / latent {data['latent_tolerance']:g} |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in data["curves"]:
        cells = []
        for steps in ("5", "10", "20", "40"):
            nfe = row["nfe_by_steps"][steps]
            cells.append(
                f"{row['distance_by_steps'][steps]:.3f} / {row['latent_distance_by_steps'][steps]:.2f} ({nfe})"
            )
        reached = [
            str(row[key]) if row[key] is not None else "never"
            for key in (
                "first_nfe_within_tolerance",
                "first_nfe_within_tight_tolerance",
                "first_nfe_within_latent_tolerance",
            )
        ]
        lines.append(
            f"| {row['guidance_scale']:g} | {row['scheduler']} | {' | '.join(cells)} | {' / '.join(reached)} |"
        )

    def said(name: str) -> str:
        return "**yes**" if claims[name] else "**no**"

    lines += [
        "",
        "(NFE in parentheses.) DPM++ 2M and UniPC reach the reference's neighbourhood in fewer evaluations than Euler "
        f"and DDIM at every guidance: pixel {data['tolerance']:g}: "
        f"{said('fast_solvers_reach_the_reference_in_fewer_evaluations')}; pixel {data['tight_tolerance']:g}: "
        f"{said('fast_solvers_reach_the_tight_tolerance_in_fewer_evaluations')}; latent "
        f"{data['latent_tolerance']:g}: {said('fast_solvers_reach_the_latent_tolerance_in_fewer_evaluations')}. "
        "Ancestral schedulers (Euler a, DPM2 a) never get within: "
        f"{said('ancestral_schedulers_never_within_tolerance')} / "
        f"{said('ancestral_schedulers_never_within_tight_tolerance')} / "
        f"{said('ancestral_schedulers_never_within_latent_tolerance')}. Every dry-run estimate within a factor of "
        f"2 of the measured running time: {said('estimates_within_factor_2')}.",
    ]
    return "\n".join(lines) + "\n"
