#!/usr/bin/env python
"""Scheduler quality vs. model evaluations on the demo model (models/shapes-sd), as EDM plots FID vs. NFE.

Every available entry of the scheduler registry (`worker.registry.ENTRIES`: each scheduler and preset, built by
`registry.build_scheduler` exactly as the worker builds it) at 10, 20, 30 and 50 steps, guidance 7.5 and 4.
Images are prompt x seed jobs over all 48 captions of the data set, the same initial noise for every scheduler
(image i's noise comes from `torch.Generator().manual_seed(i)`, as in the engine and plain diffusers).
At 30 steps `--images` images (default 64); at the other step counts the first `--images-other` (default 16,
spread over shapes, colours and backgrounds) to keep the run's CPU time reasonable. For each cell it measures
  - colour / shape match: shares of images whose colour / shape the checker (worker/demo_model/checker.py) finds
    equal to the prompt's, each beside its chance level;
  - distance to a converged reference: the median over images of the pixel RMSE (images in [0, 1]) to the same
    job sampled with DPM++ 2M at --ref-steps steps (ancestral and SDE samplers converge to other samples, so
    their distance stays large by design), and the first step count at which it falls below CONVERGED_RMSE;
  - NFE: UNet calls per image, counted (one call evaluates the conditional and unconditional halves together).
It writes docs/data/quality_sweep.json (`benchmarks/results.py`), the plot docs/quality_sweep.png, and the
README's quality table is rendered from the JSON by benchmarks/readme_sections/quality_sweep.py.

    .venv/bin/python benchmarks/quality_sweep.py                    # the committed figures
    .venv/bin/python benchmarks/quality_sweep.py --quick --no-write # a smoke run, nothing written
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.results import write_result  # noqa: E402
from service.contract import SchedulerChoice  # noqa: E402
from worker import registry  # noqa: E402
from worker.demo_model import DEMO_MODEL_DIR, checker, shapes  # noqa: E402
from worker.families import family_of, read_model_index  # noqa: E402

STEPS = (10, 20, 30, 50)
MAIN_STEPS = 30
GUIDANCE = (7.5, 4.0)
# A scheduler has converged at a step count once the median image is this close (pixel RMSE, [0, 1] scale) to
# the 100-step DPM++ 2M reference: ~13 of 255 levels, well below the gap between two different samples (~0.3).
CONVERGED_RMSE = 0.05
PLOT = REPO / "docs" / "quality_sweep.png"


def available_entries(model: Path = DEMO_MODEL_DIR, ids: list[str] | None = None) -> list[registry.RegistryEntry]:
    """Every registry entry that `model` can run (or the named ones), in registry order: the model's own catalog
    decides, as for a worker serving it (zero-terminal-SNR presets, for one, need a v-prediction model)."""
    family = family_of(read_model_index(str(model), None))
    scheduler_config = json.loads((model / "scheduler" / "scheduler_config.json").read_text())
    runnable = {entry.id for entry in registry.model_catalog(family, scheduler_config).entries if entry.available}
    entries = [entry for entry in registry.ENTRIES if entry.id in runnable]
    if ids is None:
        return entries
    known = {entry.id: entry for entry in entries}
    unknown = [name for name in ids if name not in known]
    if unknown:
        raise SystemExit(f"unknown or unavailable schedulers {unknown}; available: {list(known)}")
    return [known[name] for name in ids]


def jobs(count: int) -> list[tuple[str, int]]:
    """(prompt, seed) pairs: prompts stride through the 48 captions (7 is prime to 48), so any prefix is varied."""
    prompts = [shapes.caption(*combo) for combo in shapes.all_combinations()]
    return [(prompts[(i * 7) % len(prompts)], i) for i in range(count)]


class UNetCounter:
    """Counts UNet forward calls (a forward hook)."""

    def __init__(self, unet):
        self.calls = 0
        unet.register_forward_hook(self._hook)

    def _hook(self, *_args) -> None:
        self.calls += 1


def sample(pipe, counter: UNetCounter, entry, model_config, steps: int, work, guidance: float):
    """Sample every (prompt, seed) job in one batch: images (N,H,W,3 in [0,1]) and UNet calls per image."""
    built = registry.build_scheduler(entry, model_config, SchedulerChoice(name=entry.id), seed=0, field="scheduler")
    pipe.scheduler = built.scheduler
    generators = [torch.Generator().manual_seed(seed) for _, seed in work]
    before = counter.calls
    latents = pipe(
        [prompt for prompt, _ in work],
        num_inference_steps=steps,
        guidance_scale=guidance,
        generator=generators,  # image i's initial noise, then a stochastic scheduler's noise, as in the engine
        output_type="latent",
    ).images
    nfe = counter.calls - before
    with torch.no_grad():
        decoded = pipe.vae.decode(latents / pipe.vae.config.scaling_factor).sample
    return ((decoded.clamp(-1, 1) + 1) / 2).permute(0, 2, 3, 1).numpy(), nfe


def plot(rows: list[dict[str, Any]], path: Path, title: str) -> None:
    metrics = [
        ("colour_match", "colour match"),
        ("shape_match", "shape match"),
        ("rmse_px", "RMSE to reference"),
    ]
    names = list(dict.fromkeys(row["scheduler"] for row in rows))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 4.2))
    for ax, (key, label) in zip(axes, metrics, strict=True):
        for i, name in enumerate(names):
            pts = sorted((r["nfe"], r[key]) for r in rows if r["scheduler"] == name)
            ax.plot(
                [p[0] for p in pts],
                [p[1] for p in pts],
                marker="os^Dv<>p*h"[i % 10],
                linestyle=("-", "--", ":")[i // 10 % 3],
                label=name,
                linewidth=1,
                markersize=4,
            )
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.set_xlabel("NFE (UNet evaluations per image)")
        ax.set_title(label)
        ax.grid(True, which="both", alpha=0.3)
        if key != "rmse_px":
            ax.set_ylim(-0.02, 1.02)
        else:
            ax.set_yscale("log")
    axes[0].legend(fontsize=6, ncol=2)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=DEMO_MODEL_DIR)
    parser.add_argument("--schedulers", help="comma list of registry ids (default: every available entry)")
    parser.add_argument("--steps", default=",".join(map(str, STEPS)), help="comma list of step counts")
    parser.add_argument("--guidance", default=",".join(map(str, GUIDANCE)), help="comma list of guidance scales")
    parser.add_argument("--images", type=int, default=64, help=f"images per cell at {MAIN_STEPS} steps")
    parser.add_argument("--images-other", type=int, default=16, help="images per cell at the other step counts")
    parser.add_argument("--ref-steps", type=int, default=100, help="steps of the DPM++ 2M reference")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="4 schedulers, 10 and 30 steps, 8 images, guidance 7.5")
    parser.add_argument("--no-write", action="store_true", help="print only; write no JSON and no plot")
    args = parser.parse_args(argv)
    if args.quick:
        args.schedulers = args.schedulers or "euler,lms,pndm,dpmpp_2m"
        args.steps, args.guidance, args.images, args.images_other = "10,30", "7.5", 8, 8
    entries = available_entries(args.model, args.schedulers.split(",") if args.schedulers else None)
    step_counts = [int(s) for s in args.steps.split(",")]
    guidances = [float(g) for g in args.guidance.split(",")]

    torch.set_num_threads(args.threads)
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline.from_pretrained(args.model)
    pipe.set_progress_bar_config(disable=True)
    model_config = dict(pipe.scheduler.config)
    counter = UNetCounter(pipe.unet)
    work = jobs(max(args.images, args.images_other))
    reference_entry = registry.entry_by_id("dpmpp_2m")
    started = time.time()
    rows: list[dict[str, Any]] = []
    references: dict[str, Any] = {}
    for guidance in guidances:
        ref_images, _ = sample(pipe, counter, reference_entry, model_config, args.ref_steps, work, guidance)
        references[str(guidance)] = checker.score(list(ref_images), [p for p, _ in work])
        print(f"guidance {guidance}: reference DPM++ 2M x {args.ref_steps}: {references[str(guidance)]}", flush=True)
        print(f"{'scheduler':<22}{'steps':>6}{'NFE':>5}{'n':>4}{'colour':>8}{'shape':>7}{'rmse':>7}{'s':>6}")
        for entry in entries:
            for steps in step_counts:
                cell = work[: args.images if steps == MAIN_STEPS else args.images_other]
                mark = time.time()
                images, nfe = sample(pipe, counter, entry, model_config, steps, cell, guidance)
                score = checker.score(list(images), [p for p, _ in cell])
                per_image = np.sqrt(((images - ref_images[: len(cell)]) ** 2).mean(axis=(1, 2, 3)))
                row = {
                    "scheduler": entry.id,
                    "name": entry.display_name,
                    "class": entry.class_name,
                    "stochastic": entry.stochastic,
                    "guidance": guidance,
                    "steps": steps,
                    "nfe": nfe,  # UNet calls of the one batched call: per image
                    **score,
                    "rmse_px_median": float(np.median(per_image)),
                    "seconds": round(time.time() - mark, 2),
                }
                rows.append(row)
                print(
                    f"{entry.id:<22}{steps:>6}{nfe:>5}{len(cell):>4}{score['colour_match']:>8.3f}"
                    f"{score['shape_match']:>7.3f}{row['rmse_px_median']:>7.3f}{row['seconds']:>6.1f}",
                    flush=True,
                )
    data = {
        "model": {"path": str(args.model.relative_to(REPO) if args.model.is_relative_to(REPO) else args.model)},
        "steps": step_counts,
        "main_steps": MAIN_STEPS,
        "guidance": guidances,
        "images_main": args.images,
        "images_other": args.images_other,
        "prompts": len({p for p, _ in work}),
        "reference": {"scheduler": "dpmpp_2m", "steps": args.ref_steps, "scores": references},
        "converged_rmse": CONVERGED_RMSE,
        "rows": rows,
        "seconds": round(time.time() - started, 1),
    }
    if args.model.resolve() == DEMO_MODEL_DIR.resolve():
        meta = json.loads((DEMO_MODEL_DIR / "schedlab-model.json").read_text())
        data["model"].update({"id": meta["model_id"], "version": meta["version"]})
    if args.no_write:
        print(f"done in {time.time() - started:.0f} s (nothing written)")
        return 0
    path = write_result("quality_sweep", data, {"threads": args.threads})
    title = (
        f"shapes-sd, guidance {guidances[0]}: {args.images} images at {MAIN_STEPS} steps, {args.images_other} at"
        f" the others; RMSE to DPM++ 2M x {args.ref_steps}"
    )
    main_rows = [{**row, "rmse_px": row["rmse_px_median"]} for row in rows if row["guidance"] == guidances[0]]
    plot(main_rows, PLOT, title)
    print(f"wrote {path.relative_to(REPO)} and {PLOT.relative_to(REPO)} in {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
