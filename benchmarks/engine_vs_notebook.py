"""The engine vs. the original notebook's loop, side by side in one run, on the same model and settings.

(a) notebook: per scheduler, `SomeScheduler.from_config(pipe.scheduler.config)`, one `pipe(prompt, ...)` call
    with a step callback that VAE-decodes the latents at the captured steps, then saves frames and final images.
(b) engine:   `ComparisonEngine.run` with the same prompt, seeds, steps and capture steps, writing to a folder.

Prints wall time for each, the ratio b/a, and how far the final images agree: identical, or the share of pixels
within one level. The engine runs with the spec's default execution (`batched`), which equals the notebook up to
the UNet's batch-size rounding; `--execution sequential` gives the bit-exact path.

    python benchmarks/engine_vs_notebook.py [--steps 30] [--images 4] [--repeats 3] [--model tiny demo] [--no-write]

Writes docs/data/engine_vs_notebook.json (the README's figures) unless --no-write.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for `benchmarks.results`

from benchmarks.agreement import FinalAgreement
from benchmarks.results import write_result
from service.contract import ComparisonSpec, StorageLayout
from service.settings import Settings
from service.storage import LocalStorage
from worker.engine import ComparisonEngine
from worker.frames import decode_vae
from worker.model import load_model
from worker.registry import entry_by_id

# The original experiment's nine variants (DPMSolverSinglestep, which diffusers' docs call "DPM++ SDE").
EXPERIMENT = ["euler", "euler_a", "ddim", "ddim_sd_explicit", "ddpm", "dpmpp_2m", "dpmpp_singlestep", "lms", "pndm"]
PROMPT = "a red circle on a black background"


def experiment_spec(steps: int, images: int, every: int, execution: str | None = None) -> ComparisonSpec:
    """The experiment's comparison: its nine variants, one prompt, seed 42; the default execution unless given."""
    return ComparisonSpec(
        prompt=PROMPT,
        seed=42,
        num_images=images,
        steps=steps,
        schedulers=[{"name": name} for name in EXPERIMENT],
        capture={"every": every},
        **({"execution": execution} if execution else {}),
    )


def notebook(engine: ComparisonEngine, spec: ComparisonSpec, out: Path) -> dict[str, list[Image.Image]]:
    """The notebook's loop: a callback decodes captured latents; the pipeline decodes the final images."""
    model = engine.model
    pipe = model.pipe
    capture = set(spec.capture_steps())
    finals: dict[str, list[Image.Image]] = {}
    for choice in spec.schedulers:
        entry = entry_by_id(choice.name)
        config = {**entry.preset}
        if entry.class_name in ("DDIMScheduler", "DDPMScheduler"):
            config.setdefault("clip_sample", False)
        pipe.scheduler = entry.scheduler_class.from_config(model.scheduler_config, **config)
        frames: dict[int, list[Image.Image]] = {}

        def on_step(pipeline, i, t, tensors, frames=frames):  # type: ignore[no-untyped-def]
            if i + 1 in capture:  # the notebook keyed on the call index
                frames[i + 1] = decode_vae(model, tensors["latents"])
            return tensors

        generators = [torch.Generator().manual_seed(spec.seed + i) for i in range(spec.num_images)]
        images = pipe(
            PROMPT,
            num_inference_steps=spec.steps,
            num_images_per_prompt=spec.num_images,
            guidance_scale=spec.guidance_scale,
            generator=generators,
            callback_on_step_end=on_step,
        ).images
        folder = out / choice.name
        folder.mkdir(parents=True)
        for step, step_images in frames.items():
            for index, image in enumerate(step_images):
                image.save(folder / f"step{step}-{index}.png")
        for index, image in enumerate(images):
            image.save(folder / f"final-{index}.png")
        finals[choice.name] = images
    return finals


def measure(model_name: str, args: argparse.Namespace) -> dict[str, object]:
    """Interleaved repeats of (a) and (b) on one model; medians, runs and whether the final images agree."""
    settings = Settings(model=model_name, torch_threads=args.threads)
    engine = ComparisonEngine(load_model(settings))
    spec = experiment_spec(args.steps, args.images, args.every, args.execution)
    timings: dict[str, list[float]] = {"notebook": [], "engine": []}
    agreement = FinalAgreement()
    for _ in range(args.repeats):  # interleaved, so drift in machine load hits both alike
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            finals = notebook(engine, spec, Path(folder) / "a")
            timings["notebook"].append(time.perf_counter() - started)
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            engine.run(spec, LocalStorage(Path(folder)), StorageLayout(""))
            timings["engine"].append(time.perf_counter() - started)
            for index, name in enumerate(EXPERIMENT):
                for image_index, image in enumerate(finals[name]):
                    ours = Image.open(
                        Path(folder)
                        / StorageLayout("").final_image(StorageLayout.scheduler_folder(index, name), image_index)
                    )
                    agreement.add(ours, image)

    a = statistics.median(timings["notebook"])
    b = statistics.median(timings["engine"])
    print(
        f"model={model_name} device={engine.model.device} schedulers={len(EXPERIMENT)} images={args.images} "
        f"steps={args.steps} capture every {args.every} repeats={args.repeats}"
    )
    print(f"(a) notebook loop  median {a:8.3f} s   runs {[round(t, 3) for t in timings['notebook']]}")
    print(f"(b) engine         median {b:8.3f} s   runs {[round(t, 3) for t in timings['engine']]}")
    print(f"ratio b/a = {b / a:.3f}   (target <= 1.0)")
    print(f"final images ({spec.execution.value} vs notebook): {agreement.describe()}")
    return {
        "model": model_name,
        "notebook_s": {"median": round(a, 3), "runs": [round(t, 3) for t in timings["notebook"]]},
        "engine_s": {"median": round(b, 3), "runs": [round(t, 3) for t in timings["engine"]]},
        "ratio": round(b / a, 3),
        **agreement.record(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", nargs="+", default=["tiny", "demo"], help="one or more models, measured in turn")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--execution", choices=["batched", "sequential"], help="the engine's; default: the spec's")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/data/ as it is")
    args = parser.parse_args()

    measured = [measure(model_name, args) for model_name in args.model]
    if not args.no_write:
        execution = experiment_spec(args.steps, args.images, args.every, args.execution).execution.value
        setup = {
            "schedulers": EXPERIMENT,
            "images": args.images,
            "steps": args.steps,
            "every": args.every,
            "execution": execution,
        }
        path = write_result(
            "engine_vs_notebook",
            {
                "setup": {**setup, "repeats": args.repeats, "torch_threads": args.threads, "target": "ratio <= 1.0"},
                "models": measured,
            },
        )
        print(f"wrote {path}; render the README with `python benchmarks/results.py`")


if __name__ == "__main__":
    main()
