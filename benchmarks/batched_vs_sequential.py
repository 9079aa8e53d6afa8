"""Batched (lock-step) vs sequential execution of the original experiment, side by side, on the tiny and demo models.

The experiment: its nine scheduler variants, 4 images, 30 steps, a frame every 5 steps (VAE-decoded and stored),
through `ComparisonEngine.run` writing to a folder, exactly as a job runs. Repeats are interleaved (sequential and
batched alternate, the order flipping each repeat) so drift in the machine's load hits both alike. Prints the
medians and the speed ratio sequential/batched, and how far batched is from sequential: per scheduler the final
latents' max abs difference and the share of final-image pixels within one level. Writes
docs/data/batched_vs_sequential.json (rendered into the README by `python benchmarks/results.py`).

    python benchmarks/batched_vs_sequential.py [--models tiny demo] [--repeats 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.engine_vs_notebook import EXPERIMENT, PROMPT
from benchmarks.results import write_result
from service.contract import ComparisonSpec, Execution, StorageLayout
from service.settings import Settings
from service.storage import LocalStorage
from worker.engine import ComparisonEngine, ComparisonOutcome
from worker.model import load_model


def spec(args: argparse.Namespace, execution: Execution) -> ComparisonSpec:
    return ComparisonSpec(
        prompt=PROMPT,
        seed=42,
        num_images=args.images,
        steps=args.steps,
        schedulers=[{"name": name} for name in EXPERIMENT],
        capture={"every": args.every},
        execution=execution,
    )


def final_pixels(folder: Path, outcome: ComparisonOutcome) -> list[np.ndarray]:
    return [
        np.asarray(Image.open(folder / key).convert("RGB")).astype(np.int16)
        for result in outcome.results
        for key in result.final_images
    ]


def measure_model(model_name: str, args: argparse.Namespace) -> dict[str, Any]:
    engine = ComparisonEngine(load_model(Settings(model=model_name, torch_threads=args.threads, device="cpu")))
    times: dict[str, list[float]] = {"sequential": [], "batched": []}
    kept: dict[str, tuple[ComparisonOutcome, list[np.ndarray]]] = {}
    for repeat in range(args.repeats):
        order = ["sequential", "batched"] if repeat % 2 == 0 else ["batched", "sequential"]
        for mode in order:
            with tempfile.TemporaryDirectory() as folder:
                started = time.perf_counter()
                outcome = engine.run(spec(args, Execution(mode)), LocalStorage(Path(folder)), StorageLayout(""))
                times[mode].append(time.perf_counter() - started)
                kept[mode] = (outcome, final_pixels(Path(folder), outcome))
    (batched, batched_pixels), (sequential, sequential_pixels) = kept["batched"], kept["sequential"]
    per_scheduler = []
    images = args.images
    for index, name in enumerate(EXPERIMENT):
        latent_b, latent_s = batched.final_latents[index], sequential.final_latents[index]
        shares = [
            float((np.abs(b - s) <= 1).mean())
            for b, s in zip(
                batched_pixels[index * images : (index + 1) * images],
                sequential_pixels[index * images : (index + 1) * images],
                strict=True,
            )
        ]
        per_scheduler.append(
            {
                "scheduler": name,
                "final_latents_max_abs_diff": float((latent_b - latent_s).abs().max()),
                "final_latents_max_abs": float(latent_s.abs().max()),
                "final_pixels_within_1_level": min(shares),
            }
        )
    sequential_s, batched_s = statistics.median(times["sequential"]), statistics.median(times["batched"])
    return {
        "model": engine.model.model_id,
        "sequential_s": [round(t, 3) for t in times["sequential"]],
        "batched_s": [round(t, 3) for t in times["batched"]],
        "sequential_median_s": round(sequential_s, 3),
        "batched_median_s": round(batched_s, 3),
        "speedup": round(sequential_s / batched_s, 3),
        "execution": batched.manifest.execution,
        "agreement": per_scheduler,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["tiny", "demo"])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-write", action="store_true", help="print only; do not write docs/data")
    args = parser.parse_args()

    results: list[dict[str, Any]] = []
    data = {
        "experiment": {
            "schedulers": EXPERIMENT,
            "images": args.images,
            "steps": args.steps,
            "frame_every": args.every,
            "repeats": args.repeats,
            "torch_threads": args.threads,
            "device": "cpu",
            "dtype": str(torch.get_default_dtype()).removeprefix("torch."),
        },
        "results": results,
    }
    for model_name in args.models:
        result = measure_model(model_name, args)
        results.append(result)
        print(
            f"{result['model']:<20} sequential {result['sequential_median_s']:7.2f} s  batched "
            f"{result['batched_median_s']:7.2f} s  speedup {result['speedup']:.2f}x  "
            f"runs seq {result['sequential_s']} batched {result['batched_s']}",
            flush=True,
        )
        for row in result["agreement"]:
            print(
                f"    {row['scheduler']:<18} final latents max|diff| {row['final_latents_max_abs_diff']:.2e} "
                f"(max|latent| {row['final_latents_max_abs']:.1f})  pixels within 1 level "
                f"{100 * row['final_pixels_within_1_level']:.2f} %",
                flush=True,
            )
        if not args.no_write:  # after each model, so a run cut short keeps what it measured
            print(f"wrote {write_result('batched_vs_sequential', data)}", flush=True)


if __name__ == "__main__":
    main()
