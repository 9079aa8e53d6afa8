"""The original experiment at SD 1.5 size: sequential vs batched execution, eager vs torch.compile.

The experiment: nine scheduler variants, 4 images, 100 steps, 512x512, a frame every 10 steps (VAE-decoded and
PNG-encoded, as the engine stores them), fp16, SDPA attention, on `sd15-random` (SD 1.5's exact architecture with
seeded random weights, built on the GPU on first use into --cache-dir; about 2 GB). Each (compile, execution)
pair runs a short warm-up (compiles there), then `--repeats` timed runs of the whole comparison through
`ComparisonEngine.run` (frames, final images, grids, contact sheet and manifest included; files kept in memory).

Prints, per pair: total seconds, image-evaluations per second (images x UNet calls, a guidance pair counted once),
peak GPU memory, and the batched/sequential speed ratio; and how far batched is from sequential in fp16 (final
latents' max abs difference, share of final-image pixels within one level). Writes `gpu_bench.json` to OUT_DIR.

    scripts/gpu-bench.sh OUT_DIR                                          # the full experiment (CUDA)
    python -m benchmarks.gpu_bench --out OUT_DIR --model tiny --steps 4 --size 64 --device cpu   # CPU smoke

Imports (besides the standard library): torch, numpy, PIL, diffusers, transformers, safetensors (through
diffusers), scipy (the LMS scheduler), pydantic and pydantic-settings (schedlab's spec and settings); nothing from
redis, rq, fastapi, boto3 or torchsde (the experiment's variants do not include DPMSolverSDE).
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from benchmarks.agreement import FinalAgreement
from service.contract import ComparisonSpec, Execution, Limits, StorageLayout
from service.settings import Settings
from service.storage import MemoryStorage
from worker.engine import ComparisonEngine, ComparisonOutcome
from worker.model import load_model

# The original experiment's nine variants (DPMSolverSinglestep, which diffusers' docs call "DPM++ SDE").
EXPERIMENT = ["euler", "euler_a", "ddim", "ddim_sd_explicit", "ddpm", "dpmpp_2m", "dpmpp_singlestep", "lms", "pndm"]
PROMPT = "a red circle on a black background"


class FinalsOnlyStorage(MemoryStorage):
    """Keeps final images (to compare modes) and counts everything else; storage is not what is measured."""

    def __init__(self) -> None:
        super().__init__()
        self.bytes_written = 0

    @property
    def finals(self) -> dict[str, bytes]:
        return self.files

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self.bytes_written += len(data)
        if "/final/" in key:
            super().put_bytes(key, data, content_type)


def experiment_spec(args: argparse.Namespace, execution: Execution, steps: int | None = None) -> ComparisonSpec:
    steps = steps or args.steps
    return ComparisonSpec(
        prompt=PROMPT,
        seed=42,
        num_images=args.images,
        steps=steps,
        height=args.size,
        width=args.size,
        schedulers=[{"name": name} for name in args.schedulers],
        capture={"every": min(args.every, steps)},
        execution=execution,
    )


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_run(engine: ComparisonEngine, spec: ComparisonSpec) -> tuple[float, ComparisonOutcome, FinalsOnlyStorage]:
    device = engine.model.device
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    sink = FinalsOnlyStorage()
    synchronize(device)
    started = time.perf_counter()
    outcome = engine.run(spec, sink, StorageLayout(""))
    synchronize(device)
    return time.perf_counter() - started, outcome, sink


def agreement(
    a: tuple[ComparisonOutcome, FinalsOnlyStorage], b: tuple[ComparisonOutcome, FinalsOnlyStorage]
) -> dict[str, Any]:
    """How far two runs of the same comparison are apart: final latents and final images."""
    (outcome_a, sink_a), (outcome_b, sink_b) = a, b
    latent_diff = max(
        float((x.float() - y.float()).abs().max())
        for x, y in zip(outcome_a.final_latents, outcome_b.final_latents, strict=True)
    )
    images = FinalAgreement()
    for key, data in sink_a.finals.items():
        images.add(Image.open(io.BytesIO(data)), Image.open(io.BytesIO(sink_b.finals[key])))
    # The scale the difference is measured against: a random UNet leaves latents far from unit size.
    latent_scale = max(float(y.float().abs().max()) for y in outcome_b.final_latents)
    return {
        "final_latents_max_abs_diff": latent_diff,
        "final_latents_max_abs": latent_scale,
        "final_pixels_within_1_level": images.share_within_one_level,
    }


def measure(
    args: argparse.Namespace,
    engine: ComparisonEngine,
    eager_unet: Any,
    compiled: bool,
    runs: list[dict[str, Any]],
    comparisons: list[dict[str, Any]],
) -> None:
    """Every execution mode with the UNet eager or compiled: warm-up, timed runs, then batched vs sequential."""
    model, device = engine.model, engine.model.device
    model.pipe.unet = torch.compile(eager_unet, mode=args.compile_mode, dynamic=False) if compiled else eager_unet
    kept: dict[str, tuple[ComparisonOutcome, FinalsOnlyStorage]] = {}
    for mode in args.modes:
        execution = Execution(mode)
        warm_s, _, _ = timed_run(engine, experiment_spec(args, execution, args.warmup_steps))
        times = []
        for _ in range(args.repeats):
            seconds, outcome, sink = timed_run(engine, experiment_spec(args, execution))
            times.append(seconds)
        unet_calls = sum(r.timings.unet_calls for r in outcome.results)
        image_evals = unet_calls * args.images
        total_s = statistics.median(times)
        peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None
        record = {
            "compile": compiled,
            "execution": mode,
            "warmup_s": round(warm_s, 3),
            "total_s": round(total_s, 3),
            "runs_s": [round(t, 3) for t in times],
            "image_evaluations": image_evals,
            "image_evaluations_per_s": round(image_evals / total_s, 2),
            "peak_memory_bytes": peak,
            "frames_per_scheduler": len({f.step for f in outcome.results[0].frames}),
            "execution_record": outcome.manifest.execution,
            "per_scheduler_wall_s": {r.id: r.timings.wall_s for r in outcome.results},
        }
        runs.append(record)
        kept[mode] = (outcome, sink)
        peak_text = f"{peak / 2**30:6.2f} GiB" if peak is not None else "   n/a"
        print(
            f"compile={'on ' if compiled else 'off'} {mode:<10} total {total_s:8.2f} s   "
            f"{image_evals / total_s:8.1f} image-evals/s   peak {peak_text}   warm-up {warm_s:6.1f} s",
            flush=True,
        )
    if "batched" in kept and "sequential" in kept:
        by_mode = {r["execution"]: r for r in runs if r["compile"] == compiled}
        ratio = by_mode["sequential"]["total_s"] / by_mode["batched"]["total_s"]
        comparison = {"compile": compiled, "speedup_batched_over_sequential": round(ratio, 3)}
        comparison |= agreement(kept["batched"], kept["sequential"])
        comparisons.append(comparison)
        print(
            f"compile={'on ' if compiled else 'off'} batched/sequential speed = {ratio:.2f}x   "
            f"final latents max|diff| {comparison['final_latents_max_abs_diff']:.3g}   "
            f"pixels within 1 level {100 * comparison['final_pixels_within_1_level']:.2f} %",
            flush=True,
        )


def code_commit() -> str | None:
    """The checkout's commit, for the README's provenance line (None outside a git checkout).

    SCHEDLAB_CODE_COMMIT wins: a copy of the working tree sent to a GPU host can carry a stale `.git`.
    """
    if os.environ.get("SCHEDLAB_CODE_COMMIT"):
        return os.environ["SCHEDLAB_CODE_COMMIT"]
    try:
        found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return found.stdout.strip() or None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder for gpu_bench.json")
    parser.add_argument("--model", default="sd15-random", help="sd15-random (default), tiny, demo or a directory")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="auto", choices=["auto", "float16", "float32", "bfloat16"])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--size", type=int, default=512, help="height and width in pixels")
    parser.add_argument("--every", type=int, default=10, help="a frame every N steps")
    parser.add_argument("--schedulers", nargs="+", default=EXPERIMENT)
    parser.add_argument("--modes", nargs="+", default=["batched", "sequential"], choices=["batched", "sequential"])
    parser.add_argument(
        "--compile", default="auto", choices=["auto", "off", "on", "both"], help="auto: both on CUDA, off on CPU"
    )
    parser.add_argument("--compile-mode", default="default", help="torch.compile mode")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--warmup-steps", type=int, default=2, help="steps of the untimed warm-up run")
    parser.add_argument("--max-batch", type=int, default=0, help="SCHEDLAB_MAX_BATCH; 0 = per device")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads for torch; 0 = default")
    parser.add_argument("--cache-dir", type=Path, default=Settings().model_cache_dir)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    settings = Settings(
        model=args.model,
        device=args.device,
        dtype=args.dtype,
        model_cache_dir=args.cache_dir,
        torch_threads=args.threads,
        compile_unet=False,
        warmup=False,
    )
    started = time.perf_counter()
    model = load_model(settings)
    load_s = time.perf_counter() - started
    device = model.device
    print(f"model {model.model_id} on {device} as {model.dtype}: built/loaded in {load_s:.1f} s", flush=True)
    engine = ComparisonEngine(model, Limits(max_unet_evals=10**9, max_steps=1000), max_batch=args.max_batch)
    compile_settings = {"auto": [False, True] if device.type == "cuda" else [False], "off": [False], "on": [True]}
    compiles = compile_settings.get(args.compile, [False, True])
    eager_unet = model.pipe.unet

    from benchmarks.results import environment

    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else None
    runs: list[dict[str, Any]] = []
    comparisons: list[dict[str, Any]] = []
    errors: list[str] = []
    data = {
        "environment": {
            **environment(),
            "device": str(device),
            "gpu": gpu,
            "cuda": torch.version.cuda,
            "code_commit": code_commit(),
        },
        "experiment": {
            "model": model.model_id,
            "dtype": str(model.dtype).removeprefix("torch."),
            "schedulers": args.schedulers,
            "images": args.images,
            "steps": args.steps,
            "size": args.size,
            "frame_every": args.every,
            "attention": "SDPA (diffusers' default AttnProcessor2_0)",
            "compile_mode": args.compile_mode,
            "repeats": args.repeats,
            "max_batch_setting": args.max_batch,
        },
        "model_load_s": round(load_s, 2),
        "runs": runs,
        "comparisons": comparisons,
        "errors": errors,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    for compiled in compiles:
        try:
            measure(args, engine, eager_unet, compiled, runs, comparisons)
        except Exception as error:  # e.g. torch.compile without a C compiler: keep what the other setting measured
            errors.append(f"compile={compiled}: {error.__class__.__name__}: {str(error)[:2000]}")
            print(f"compile={compiled} failed: {error.__class__.__name__}: {error}", flush=True)
        # Written after every setting, so a run cut short still leaves its figures.
        (args.out / "gpu_bench.json").write_text(json.dumps(data, indent=2) + "\n")
    model.pipe.unet = eager_unet
    print(f"wrote {args.out / 'gpu_bench.json'}", flush=True)
    return data


if __name__ == "__main__":
    main()
