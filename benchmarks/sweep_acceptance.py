#!/usr/bin/env python
"""Issue 16's acceptance, measured: sweeps through the API on the demo model, dry-run estimates against the time.

Two sweeps, each 3 schedulers x steps [5, 10, 20, 40] x guidance [4, 7.5] (8 cells, 24 runs, one seed, --images
per cell: 8), through a real stack (`schedlab api`, one `schedlab worker` on the demo model, Redis, local storage):
  A: dpmpp_2m, euler, euler_a      B: unipc, ddim, dpm2_a
Both are measured against the same default reference (DPM++ 2M, 100 steps, per guidance and seed), so their
curves compare. For each job it records the dry run's estimate (the worker's cost model, fitted to its warm-up
and the jobs before, applied to the job's UNet calls, samples and decodes) and the measured running time, checks
the artifacts (24 results with frames and finals, grids, plot, answer), and from the curves: which schedulers
reach the reference's neighbourhood (pixel RMSE <= tolerance) and at what NFE.

    .venv/bin/python benchmarks/sweep_acceptance.py          # writes docs/data/sweep_acceptance.json, then
    .venv/bin/python benchmarks/results.py                   # re-renders the README section
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._stack import Stack, hard_limit  # noqa: E402
from benchmarks.results import write_result  # noqa: E402
from tests.harness import wait_until  # noqa: E402

JOBS = {"A": ["dpmpp_2m", "euler", "euler_a"], "B": ["unipc", "ddim", "dpm2_a"]}
FAST = {"dpmpp_2m", "unipc"}
SLOW = {"euler", "ddim"}
ANCESTRAL = {"euler_a", "dpm2_a"}


def sweep_body(schedulers: list[str], images: int) -> dict[str, Any]:
    return {
        "prompt": "a red circle on a blue background",
        "schedulers": [{"name": name} for name in schedulers],
        "steps": [5, 10, 20, 40],
        "guidance_scale": [4, 7.5],
        "seed": 0,
        "num_images": images,
        "capture": {"every": 5},
    }


def run_job(client: httpx.Client, body: dict[str, Any], timeout_s: float) -> tuple[dict[str, Any], dict[str, Any]]:
    estimate = client.post("/v1/comparisons", params={"dry_run": "true"}, json=body)
    estimate.raise_for_status()
    response = client.post("/v1/comparisons", json=body)
    response.raise_for_status()
    job_id = response.json()["id"]

    def finished() -> dict[str, Any] | None:
        job: dict[str, Any] = client.get(f"/v1/comparisons/{job_id}").json()
        return job if job["status"] in ("succeeded", "failed", "canceled") else None

    job = wait_until(finished, timeout_s, f"job {job_id}", interval_s=0.5)
    return estimate.json(), job


def seconds(job: dict[str, Any], start: str, end: str) -> float:
    return (datetime.fromisoformat(job[end]) - datetime.fromisoformat(job[start])).total_seconds()


def first_within(curve: dict[str, Any], tolerance: float, key: str = "image_distance") -> int | None:
    return next((int(p["nfe"]) for p in curve["points"] if p[key] <= tolerance), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument(
        "--tight-tolerance", type=float, default=0.02, help="Also report the first NFE within this pixel RMSE."
    )
    parser.add_argument(
        "--latent-tolerance",
        type=float,
        default=0.1,
        help="Also report the first NFE whose relative latent distance is within this (chosen after a first run "
        "showed first-order solvers plateau above it at 40 steps).",
    )
    parser.add_argument("--job-timeout", type=float, default=1800)
    parser.add_argument("--hard-limit", type=float, default=3600)
    args = parser.parse_args()

    jobs: dict[str, Any] = {}
    curves: list[dict[str, Any]] = []
    with hard_limit(args.hard_limit), Stack(extra_env={"SCHEDLAB_MODEL": "demo"}) as stack:
        try:
            stack.start_api()
            stack.start_worker("w1")
            with httpx.Client(base_url=stack.base_url, timeout=60) as client:
                for label, schedulers in JOBS.items():
                    worker = client.get("/readyz").json()["workers"][0]
                    started = time.perf_counter()
                    estimate, job = run_job(client, sweep_body(schedulers, args.images), args.job_timeout)
                    wall = time.perf_counter() - started
                    assert job["status"] == "succeeded", job.get("error")
                    running = seconds(job, "started_at", "finished_at")
                    sweep = job["sweep"]
                    root = stack.storage_dir / "comparisons" / job["id"]
                    files_ok = all(
                        (root / url.split("/files/", 1)[1]).exists()
                        for result in job["results"]
                        for url in [*result["final_images"], *(frame["url"] for frame in result["frames"])]
                    )
                    artifacts = [sweep["plot_url"], sweep["answer_url"], *(grid["url"] for grid in sweep["grids"])]
                    artifacts_ok = all((root / url.split("/files/", 1)[1]).exists() for url in artifacts)
                    jobs[label] = {
                        "schedulers": schedulers,
                        "cells": estimate["cost"]["cells"],
                        "runs": len(job["results"]),
                        "runs_with_frames_and_finals": sum(
                            1 for r in job["results"] if r["frames"] and len(r["final_images"]) == args.images
                        ),
                        "files_stored": files_ok and artifacts_ok,
                        "grids": len(sweep["grids"]),
                        "ranking_rows": len(sweep["ranking"]),
                        "unet_evaluations": estimate["cost"]["unet_evaluations"],
                        "estimate_evals_per_s": estimate["evals_per_s"],
                        "estimated_by": estimate["estimated_by"],
                        "estimated_work": estimate["work"],
                        "cost_model": estimate["cost_model"],
                        "estimated_s": estimate["estimated_seconds"],
                        "worker_evals_per_s_before": worker.get("evals_per_s"),
                        "running_s": round(running, 2),
                        "submit_to_done_s": round(wall, 2),
                        "estimate_ratio": round(estimate["estimated_seconds"] / running, 3),
                    }
                    curves += sweep["curves"]
                    docs = REPO / "docs"
                    if label == "A":
                        shutil.copy(root / "sweep" / "error-vs-nfe.png", docs / "sweep-error-vs-nfe-a.png")
                        shutil.copy(root / "sweep" / "grid-cfg-7.5_seed-0.png", docs / "sweep-grid-cfg-7.5.png")
                    else:
                        shutil.copy(root / "sweep" / "error-vs-nfe.png", docs / "sweep-error-vs-nfe-b.png")
                    tolerance = sweep["tolerance"]
                    reference = sweep["reference"]
                    print(f"job {label}: {json.dumps(jobs[label])}", flush=True)
        except BaseException:
            print(stack.logs(), file=sys.stderr)
            raise

    table: list[dict[str, Any]] = []
    for curve in sorted(curves, key=lambda c: (c["guidance_scale"], c["scheduler"])):
        table.append(
            {
                "guidance_scale": curve["guidance_scale"],
                "scheduler": curve["scheduler"],
                "first_nfe_within_tolerance": first_within(curve, tolerance),
                "first_nfe_within_tight_tolerance": first_within(curve, args.tight_tolerance),
                "first_nfe_within_latent_tolerance": first_within(curve, args.latent_tolerance, "latent_distance"),
                "distance_by_steps": {str(p["steps"]): p["image_distance"] for p in curve["points"]},
                "mean_distance_by_steps": {str(p["steps"]): p["image_distance_mean"] for p in curve["points"]},
                "latent_distance_by_steps": {str(p["steps"]): p["latent_distance"] for p in curve["points"]},
                "nfe_by_steps": {str(p["steps"]): p["nfe"] for p in curve["points"]},
            }
        )

    def reach(name: str, guidance: float, key: str = "first_nfe_within_tolerance") -> float:
        row = next(r for r in table if r["scheduler"] == name and r["guidance_scale"] == guidance)
        return float("inf") if row[key] is None else float(row[key])

    def fast_first(key: str) -> bool:
        return all(max(reach(f, g, key) for f in FAST) < min(reach(s, g, key) for s in SLOW) for g in guidances)

    def ancestral_never(key: str) -> bool:
        return all(reach(a, g, key) == float("inf") for a in ANCESTRAL for g in guidances)

    guidances = sorted({row["guidance_scale"] for row in table})
    pixel, tight, latent = (f"first_nfe_within_{name}tolerance" for name in ("", "tight_", "latent_"))
    claims = {
        "fast_solvers_reach_the_reference_in_fewer_evaluations": fast_first(pixel),
        "fast_solvers_reach_the_tight_tolerance_in_fewer_evaluations": fast_first(tight),
        "fast_solvers_reach_the_latent_tolerance_in_fewer_evaluations": fast_first(latent),
        "ancestral_schedulers_never_within_tolerance": ancestral_never(pixel),
        "ancestral_schedulers_never_within_tight_tolerance": ancestral_never(tight),
        "ancestral_schedulers_never_within_latent_tolerance": ancestral_never(latent),
        "estimates_within_factor_2": all(0.5 <= job["estimate_ratio"] <= 2 for job in jobs.values()),
    }
    write_result(
        "sweep_acceptance",
        {
            "model": "demo",
            "images_per_cell": args.images,
            "reference": reference,
            "tolerance": tolerance,
            "tight_tolerance": args.tight_tolerance,
            "latent_tolerance": args.latent_tolerance,
            "jobs": jobs,
            "curves": table,
            "claims": claims,
        },
        extra_environment={"torch_threads": 1, "device": "cpu"},
    )
    print(json.dumps(claims, indent=2))


if __name__ == "__main__":
    main()
