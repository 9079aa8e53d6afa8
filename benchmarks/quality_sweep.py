#!/usr/bin/env python
"""Scheduler quality vs. model evaluations on the demo model (models/shapes-sd), as EDM plots FID vs. NFE.

For each scheduler and step count, over a fixed set of prompts x seeds (the same initial noise for every
scheduler), it measures
  - colour match / shape match: shares of images whose colour / shape the checker
    (worker/demo_model/checker.py) finds equal to the prompt's;
  - distance to a converged reference: RMSE (pixels in [0, 1], and final latents; also the median over images
    of each image's pixel RMSE, since a few seeds flip to another sample) to the same prompt and seed
    sampled with DPMSolverMultistep at --ref-steps steps (stochastic samplers, euler_a and ddpm, converge to
    other samples, so their distance stays large by design);
  - NFE: UNet calls per image, counted (one call evaluates the conditional and unconditional halves together).
It prints a table, writes the rows as JSON and a PNG plot (matplotlib if installed, otherwise drawn with PIL).

    .venv/bin/python benchmarks/quality_sweep.py --quick --threads 1
    .venv/bin/python benchmarks/quality_sweep.py --schedulers euler,heun,dpmpp_2m --steps 5,10,20,50
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from worker.demo_model import DEMO_MODEL_DIR, checker, shapes  # noqa: E402

# name -> (diffusers class name, config overrides), built with `Cls.from_config(pipe.scheduler.config)`.
SCHEDULERS: dict[str, tuple[str, dict[str, Any]]] = {
    "euler": ("EulerDiscreteScheduler", {}),
    "euler_a": ("EulerAncestralDiscreteScheduler", {}),
    "heun": ("HeunDiscreteScheduler", {}),
    "ddim": ("DDIMScheduler", {"clip_sample": False, "set_alpha_to_one": False, "steps_offset": 1}),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {}),
    "unipc": ("UniPCMultistepScheduler", {}),
    "lms": ("LMSDiscreteScheduler", {}),
    "pndm": ("PNDMScheduler", {"skip_prk_steps": True}),
    "ddpm": ("DDPMScheduler", {"clip_sample": False}),
    # Also available, not in the default list:
    "dpmpp_2m_karras": ("DPMSolverMultistepScheduler", {"use_karras_sigmas": True}),
    "dpmpp_2s": ("DPMSolverSinglestepScheduler", {}),
    "dpm2": ("KDPM2DiscreteScheduler", {}),
    "dpm2_a": ("KDPM2AncestralDiscreteScheduler", {}),
    "deis": ("DEISMultistepScheduler", {}),
    "dpmpp_sde": (
        "DPMSolverSDEScheduler",
        {"noise_sampler_seed": 0},
    ),  # its Brownian tree ignores `generator`
}
DEFAULT_SCHEDULERS = "euler,euler_a,heun,ddim,dpmpp_2m,unipc,lms,pndm,ddpm"
QUICK_SCHEDULERS = "euler,heun,ddim,dpmpp_2m"


def make_scheduler(pipe, name: str):
    import diffusers

    class_name, overrides = SCHEDULERS[name]
    return getattr(diffusers, class_name).from_config(pipe.scheduler.config, **overrides)


def fixed_prompts(count: int | None) -> list[str]:
    """All shape x colour x background captions, or an evenly spread subset of `count` of them."""
    prompts = [shapes.caption(*combo) for combo in shapes.all_combinations()]
    if count is None or count >= len(prompts):
        return prompts
    picks = np.linspace(0, len(prompts) - 1, count).round().astype(int)
    return [prompts[i] for i in dict.fromkeys(picks.tolist())]


class UNetCounter:
    """Counts UNet forward calls (a forward hook)."""

    def __init__(self, unet):
        self.calls = 0
        unet.register_forward_hook(self._hook)

    def _hook(self, *_args) -> None:
        self.calls += 1


def run(pipe, counter: UNetCounter, scheduler_name: str, steps: int, jobs, noise, guidance: float, batch: int):
    """Sample every (prompt, seed) job: decoded images (N,H,W,3 floats in [0,1]), latents, NFE per image."""
    pipe.scheduler = make_scheduler(pipe, scheduler_name)
    images, latents, nfe = [], [], []
    for start in range(0, len(jobs), batch):
        chunk = jobs[start : start + batch]
        generators = [torch.Generator().manual_seed(10_000 + seed) for _, seed in chunk]
        before = counter.calls
        out = pipe(
            [prompt for prompt, _ in chunk],
            num_inference_steps=steps,
            guidance_scale=guidance,
            generator=generators,
            latents=noise[start : start + batch].clone(),
            output_type="latent",
        ).images
        nfe.append(counter.calls - before)
        latents.append(out)
        with torch.no_grad():
            decoded = pipe.vae.decode(out / pipe.vae.config.scaling_factor).sample
        images.append(((decoded.clamp(-1, 1) + 1) / 2).permute(0, 2, 3, 1).numpy())
    if len(set(nfe)) != 1:
        raise RuntimeError(f"NFE differs between batches: {nfe}")
    return np.concatenate(images), torch.cat(latents), nfe[0]


def plot(rows: list[dict[str, Any]], path: Path, title: str) -> str:
    metrics = [
        ("colour_match", "colour match"),
        ("shape_match", "shape match"),
        ("rmse_px", "RMSE to reference"),
    ]
    names = list(dict.fromkeys(row["scheduler"] for row in rows))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        return _plot_pil(rows, path, title, metrics, names)
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
    axes[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return "matplotlib"


def _plot_pil(rows, path: Path, title: str, metrics, names) -> str:
    from PIL import Image, ImageDraw

    palette = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ]
    panel_w, panel_h, pad = 420, 320, 50
    image = Image.new("RGB", (panel_w * len(metrics), panel_h + 40 + 16 * len(names)), "white")
    pen = ImageDraw.Draw(image)
    pen.text((10, 5), title, fill="black")
    nfes = [r["nfe"] for r in rows]
    lo, hi = math.log(min(nfes)), math.log(max(nfes) * 1.0001)
    for col, (key, label) in enumerate(metrics):
        x0, y0 = col * panel_w + pad, 30
        x1, y1 = (col + 1) * panel_w - 15, panel_h - 10
        vals = [r[key] for r in rows]
        vmin, vmax = (0.0, 1.0) if key != "rmse_px" else (0.0, max(vals) * 1.05 + 1e-9)
        pen.rectangle((x0, y0, x1, y1), outline="black")
        pen.text((x0, y0 - 14), f"{label} (x: NFE, log)", fill="black")
        pen.text((x0 - 40, y0), f"{vmax:.2f}", fill="black")
        pen.text((x0 - 40, y1 - 10), f"{vmin:.2f}", fill="black")
        for i, name in enumerate(names):
            pts = sorted((r["nfe"], r[key]) for r in rows if r["scheduler"] == name)
            xy = [
                (
                    x0 + (x1 - x0) * (math.log(n) - lo) / max(hi - lo, 1e-9),
                    y1 - (y1 - y0) * (v - vmin) / max(vmax - vmin, 1e-9),
                )
                for n, v in pts
            ]
            colour = palette[i % len(palette)]
            if len(xy) > 1:
                pen.line(xy, fill=colour, width=2)
            for x, y in xy:
                pen.ellipse((x - 3, y - 3, x + 3, y + 3), fill=colour)
    for i, name in enumerate(names):
        pen.text((pad + (i % 6) * 130, panel_h + 10 + 16 * (i // 6)), f"— {name}", fill=palette[i % len(palette)])
    image.save(path)
    return "PIL"


def samples_sheet(labelled_rows: list[tuple[str, np.ndarray]], path: Path, prompts: list[str]) -> None:
    """One row of sample images per (scheduler, steps), labelled; the columns are the first prompts' images."""
    from PIL import Image, ImageDraw

    label_w, size = 150, labelled_rows[0][1].shape[1]
    cols = labelled_rows[0][1].shape[0]
    sheet = Image.new("RGB", (label_w + cols * size, (len(labelled_rows) + 1) * size), "white")
    pen = ImageDraw.Draw(sheet)
    for c, prompt in enumerate(prompts[:cols]):
        words = prompt.split()
        pen.text((label_w + c * size + 2, 4), " ".join(words[1:3]), fill="black")
        pen.text((label_w + c * size + 2, 20), "on " + words[-2], fill="black")
    for r, (label, images) in enumerate(labelled_rows, start=1):
        pen.text((4, r * size + size // 2 - 6), label, fill="black")
        for c, image in enumerate(images):
            tile = Image.fromarray((np.clip(image, 0, 1) * 255).round().astype(np.uint8))
            sheet.paste(tile.resize((size, size)), (label_w + c * size, r * size))
    sheet.save(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=DEMO_MODEL_DIR)
    parser.add_argument(
        "--schedulers", help=f"comma list (default {DEFAULT_SCHEDULERS}); known: {','.join(SCHEDULERS)}"
    )
    parser.add_argument("--steps", help="comma list of step counts (default 5,10,20,50)")
    parser.add_argument("--prompts", type=int, help="number of prompts (default: all 48 combinations)")
    parser.add_argument("--seeds", type=int, help="seeds per prompt (default 2)")
    parser.add_argument("--guidance", type=float, default=6.0)
    parser.add_argument("--ref-steps", type=int, default=100, help="steps of the DPMSolverMultistep reference")
    parser.add_argument("--batch", type=int, default=48, help="images per pipeline call")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_SCHEDULERS} at 5,10,20 steps, 12 prompts x 1 seed, 50-step reference",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(tempfile.gettempdir()) / "schedlab-quality-sweep",
        help="directory for quality_sweep.json and quality_sweep.png",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    names = (args.schedulers or (QUICK_SCHEDULERS if quick else DEFAULT_SCHEDULERS)).split(",")
    unknown = [n for n in names if n not in SCHEDULERS]
    if unknown:
        parser.error(f"unknown schedulers {unknown}; known: {list(SCHEDULERS)}")
    step_counts = [int(s) for s in (args.steps or ("5,10,20" if quick else "5,10,20,50")).split(",")]
    prompts = fixed_prompts(args.prompts if args.prompts is not None else (12 if quick else None))
    seeds = list(range(args.seeds if args.seeds is not None else (1 if quick else 2)))
    ref_steps = 50 if quick and args.ref_steps == 100 else args.ref_steps

    torch.set_num_threads(args.threads)
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline.from_pretrained(args.model)
    pipe.set_progress_bar_config(disable=True)
    counter = UNetCounter(pipe.unet)
    jobs = [(prompt, seed) for seed in seeds for prompt in prompts]
    latent_shape = (4, pipe.unet.config.sample_size, pipe.unet.config.sample_size)
    noise = torch.stack(
        [
            torch.randn(latent_shape, generator=torch.Generator().manual_seed(seed * 7919 + i))
            for i, (_, seed) in enumerate(jobs)
        ]
    )
    texts = [prompt for prompt, _ in jobs]
    started = time.time()
    ref_images, ref_latents, _ = run(pipe, counter, "dpmpp_2m", ref_steps, jobs, noise, args.guidance, args.batch)
    ref_score = checker.score(list(ref_images), texts)
    print(
        f"reference: dpmpp_2m x {ref_steps} steps, {len(jobs)} images ({len(prompts)} prompts x {len(seeds)} "
        f"seeds), guidance {args.guidance}: colour {ref_score['colour_match']:.3f} shape "
        f"{ref_score['shape_match']:.3f} ({time.time() - started:.1f} s)",
        flush=True,
    )

    sheet_cols = min(len(jobs), 8)
    sheet = [(f"reference ({ref_steps})", ref_images[:sheet_cols])]
    rows: list[dict[str, Any]] = []
    header = (
        f"{'scheduler':<16}{'steps':>6}{'NFE':>6}{'colour':>8}{'shape':>8}{'both':>8}"
        f"{'rmse_px':>9}{'median':>8}{'rmse_lat':>9}{'s':>7}"
    )
    print(header, flush=True)
    for name in names:
        for steps in step_counts:
            mark = time.time()
            images, latents, nfe = run(pipe, counter, name, steps, jobs, noise, args.guidance, args.batch)
            score = checker.score(list(images), texts)
            row = {
                "scheduler": name,
                "class": SCHEDULERS[name][0],
                "steps": steps,
                "nfe": nfe,
                "colour_match": score["colour_match"],
                "shape_match": score["shape_match"],
                "match": score["match"],
                "rmse_px": float(np.sqrt(((images - ref_images) ** 2).mean())),
                # The median over images: a few seeds flip to another shape or place, which dominates the mean.
                "rmse_px_median": float(np.median(np.sqrt(((images - ref_images) ** 2).mean(axis=(1, 2, 3))))),
                "rmse_latent": float(torch.sqrt(((latents - ref_latents) ** 2).mean())),
                "seconds": round(time.time() - mark, 2),
            }
            rows.append(row)
            sheet.append((f"{name} {steps} (NFE {nfe})", images[:sheet_cols]))
            print(
                f"{name:<16}{steps:>6}{nfe:>6}{row['colour_match']:>8.3f}{row['shape_match']:>8.3f}"
                f"{row['match']:>8.3f}{row['rmse_px']:>9.4f}{row['rmse_px_median']:>8.4f}{row['rmse_latent']:>9.4f}{row['seconds']:>7.1f}",
                flush=True,
            )

    args.out.mkdir(parents=True, exist_ok=True)
    summary = {
        "model": str(args.model),
        "guidance_scale": args.guidance,
        "prompts": prompts,
        "seeds": seeds,
        "reference": {"scheduler": "dpmpp_2m", "steps": ref_steps, **ref_score},
        "rows": rows,
    }
    (args.out / "quality_sweep.json").write_text(json.dumps(summary, indent=2) + "\n")
    title = f"shapes-sd, {len(jobs)} images, guidance {args.guidance}; reference dpmpp_2m x {ref_steps} steps"
    backend = plot(rows, args.out / "quality_sweep.png", title)
    samples_sheet(sheet, args.out / "quality_sweep_samples.png", texts)
    print(
        f"wrote quality_sweep.json, quality_sweep.png ({backend}) and quality_sweep_samples.png to {args.out} "
        f"in {time.time() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
