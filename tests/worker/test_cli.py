"""`schedlab compare` and `schedlab schedulers`: the local CLI, in-process (Redis only to price a dry run)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from redis import Redis

from service.contract import CostModel, load_catalog
from service.workers import WorkerInfo, WorkerRegistry

SCHEDLAB = str(Path(sys.executable).parent / "schedlab")


def run(*args: str, tmp_path: Path, **env_vars: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SCHEDLAB_MODEL_CACHE_DIR": str(tmp_path / "cache"),
        "SCHEDLAB_TORCH_THREADS": "1",
        **env_vars,
    }
    return subprocess.run([SCHEDLAB, *args], capture_output=True, text=True, env=env, timeout=300)


def test_compare_all_writes_a_grid_per_available_scheduler_a_contact_sheet_and_a_manifest(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run(
        "compare",
        "--prompt",
        "a red circle",
        "--scheduler",
        "all",
        "--model",
        "tiny",
        "--steps",
        "4",
        "--images",
        "1",
        "--capture-step",
        "1",
        "--capture-step",
        "3",
        "--out",
        str(out),
        tmp_path=tmp_path,
        SCHEDLAB_MAX_BATCH="6",
    )
    assert result.returncode == 0, result.stderr
    # 'all' is what the tiny SD 1.x model can run: no flow-matching or v-prediction-only presets.
    sd1_only = ("flow_", "ddim_zero", "euler_zero")
    available = [entry for entry in load_catalog().available() if not entry.id.startswith(sd1_only)]
    grids = sorted(out.glob("*/grid.png"))
    assert len(grids) == len(available)
    assert (out / "contact-sheet.png").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    for scheduler in manifest["schedulers"]:
        assert sorted({frame["step"] for frame in scheduler["frames"]}) == [1, 3, 4]
    assert manifest["execution"]["mode"] == "batched"  # the default
    assert manifest["execution"]["max_batch"] == 6  # SCHEDLAB_MAX_BATCH
    assert max(int(size) for size in manifest["execution"]["tick_batch_sizes"]) == 2 * len(available)


def test_compare_execution_sequential(tmp_path: Path) -> None:
    args = ["--prompt", "a square", "--scheduler", "euler", "--model", "tiny", "--steps", "2", "--images", "1"]
    result = run("compare", *args, "--execution", "sequential", "--out", str(tmp_path / "out"), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["execution"]["mode"] == "sequential"


def test_compare_rejects_bad_input_before_loading_the_model(tmp_path: Path) -> None:
    result = run("compare", "--prompt", "x", "--scheduler", "eulr", "--out", str(tmp_path), tmp_path=tmp_path)
    assert result.returncode == 2 and "valid names" in result.stderr
    result = run(
        "compare",
        "--prompt",
        "x",
        "--scheduler",
        "euler",
        "--steps",
        "5",
        "--capture-step",
        "9",
        "--out",
        str(tmp_path),
        tmp_path=tmp_path,
    )
    assert result.returncode == 2 and "capture.steps[0]" in result.stderr
    result = run(
        "compare",
        "--prompt",
        "x",
        "--scheduler",
        "euler",
        "--execution",
        "parallel",
        "--out",
        str(tmp_path),
        tmp_path=tmp_path,
    )
    assert result.returncode == 2 and "--execution" in result.stderr
    assert not (tmp_path / "cache").exists()  # no model was built or loaded


def test_schedulers_lists_the_registry(tmp_path: Path) -> None:
    result = run("schedulers", tmp_path=tmp_path)
    assert result.returncode == 0
    assert "dpmpp_2m_karras" in result.stdout and "DPM++ 2M Karras" in result.stdout


def test_compare_sweeps_repeated_axes_and_prints_the_answer(tmp_path: Path) -> None:
    out = tmp_path / "out"
    axes = ["--steps", "2", "--steps", "4", "--guidance-scale", "1", "--guidance-scale", "6"]
    common = ["compare", "--prompt", "a red circle", "--scheduler", "euler", "--scheduler", "dpmpp_2m", "--model"]
    common += ["tiny", "--images", "1", "--capture-every", "2", "--reference-steps", "6", "--out", str(out), *axes]
    dry = run(*common, "--dry-run", tmp_path=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "4 cells x 2 schedulers = 10 runs" in dry.stdout
    assert "UNet evaluations (image x UNet calls): 36 (reference: 12)" in dry.stdout
    assert not out.exists()  # a dry run runs nothing
    result = run(*common, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "best scheduler for the budget" in result.stdout
    assert (out / "sweep" / "error-vs-nfe.png").exists() and (out / "sweep" / "answer.json").exists()
    assert sorted(path.name for path in (out / "sweep").glob("grid-*.png")) == [
        "grid-cfg-1_seed-0.png",
        "grid-cfg-6_seed-0.png",
    ]
    assert (out / "steps-4_cfg-6_seed-0" / "02-dpmpp_2m" / "final" / "image-0.png").exists()


def test_compare_dry_run_prints_cells_evaluations_and_the_models_price_and_runs_nothing(
    tmp_path: Path, redis_url: str, key_prefix: str
) -> None:
    redis = Redis.from_url(redis_url, decode_responses=True)
    workers = WorkerRegistry(redis, key_prefix)
    for name, serves, rate in (("d1", "demo", 40.0), ("d2", "demo", 60.0), ("t1", "tiny", 1000.0)):
        worker = WorkerInfo(
            name=name, model={}, schedulers=[], serves=serves, pid=1, host="test", started_at=datetime.now(UTC)
        )
        workers.heartbeat(worker.model_copy(update={"evals_per_s": rate}), ttl_s=60)
    out = tmp_path / "out"
    args = ["compare", "--prompt", "a red circle", "--scheduler", "euler", "--scheduler", "dpmpp_2m"]
    args += ["--model", "demo", "--images", "2", "--reference-steps", "20", "--out", str(out), "--dry-run"]
    args += ["--steps", "5", "--steps", "10", "--guidance-scale", "4", "--guidance-scale", "7.5"]
    result = run(*args, tmp_path=tmp_path, SCHEDLAB_REDIS_URL=redis_url, SCHEDLAB_KEY_PREFIX=key_prefix, COLUMNS="200")
    assert result.returncode == 0, result.stderr
    assert "4 cells x 2 schedulers = 10 runs (reference runs included)" in result.stdout
    # Per image: (5 + 10) steps x 2 guidance scales x 2 schedulers, and a 20-step reference per guidance scale.
    assert "UNet evaluations (image x UNet calls): 200 (reference: 80)" in result.stdout
    # The demo model's two workers price it (median 50/s); the tiny model's much faster worker does not.
    assert "estimated duration: 4.0 s at 50 evaluations/s (median of 2 workers of demo)" in result.stdout
    rows = [line.split("│")[1:5] for line in result.stdout.splitlines() if line.count("│") == 5]
    cells = [tuple(cell.strip() for cell in row) for row in rows]
    assert cells == [("1", "5", "4", "0"), ("2", "10", "4", "0"), ("3", "5", "7.5", "0"), ("4", "10", "7.5", "0")]
    assert not out.exists() and not (tmp_path / "cache").exists()  # nothing ran, nothing was written or built
    assert not list(redis.scan_iter(match=f"{key_prefix}:job:*"))  # and nothing was queued


def test_compare_dry_run_prices_by_the_workers_cost_model_and_says_what_work_it_priced(
    tmp_path: Path, redis_url: str, key_prefix: str
) -> None:
    workers = WorkerRegistry(Redis.from_url(redis_url, decode_responses=True), key_prefix)
    cost_model = CostModel(
        seconds_per_unet_call=0.1, seconds_per_sample=0.01, seconds_per_decoded_image=0.5, max_batch=64, runs_fitted=3
    )
    worker = WorkerInfo(
        name="d1", model={}, schedulers=[], serves="demo", pid=1, host="test", started_at=datetime.now(UTC)
    )
    workers.heartbeat(worker.model_copy(update={"evals_per_s": 50.0, "cost_model": cost_model}), ttl_s=60)
    args = ["compare", "--prompt", "a red circle", "--scheduler", "euler", "--scheduler", "dpmpp_2m", "--dry-run"]
    args += ["--model", "demo", "--images", "2", "--steps", "5", "--capture-every", "5", "--out", str(tmp_path / "o")]
    result = run(*args, tmp_path=tmp_path, SCHEDLAB_REDIS_URL=redis_url, SCHEDLAB_KEY_PREFIX=key_prefix, COLUMNS="200")
    assert result.returncode == 0, result.stderr
    # Batched: 5 ticks of 2 schedulers x 2 images x 2 (guidance) = 8 samples; 4 final images decoded.
    # 5 x 0.1 + 40 x 0.01 + 4 x 0.5 = 2.9 s
    assert (
        "estimated duration: 2.9 s for 5 UNet calls of 40 samples in all and 4 decoded images, batched "
        "(the median cost model of the workers of demo)" in result.stdout
    )


def test_compare_dry_run_of_a_flow_model_sweep_takes_its_default_flow_reference(
    tmp_path: Path, redis_url: str, key_prefix: str
) -> None:
    args = ["compare", "--prompt", "a red circle", "--scheduler", "flow_euler", "--model", "tiny-sd3", "--dry-run"]
    args += ["--images", "1", "--steps", "1", "--steps", "2", "--out", str(tmp_path / "o")]
    result = run(*args, tmp_path=tmp_path, SCHEDLAB_REDIS_URL=redis_url, SCHEDLAB_KEY_PREFIX=key_prefix, COLUMNS="200")
    assert result.returncode == 0, result.stdout + result.stderr
    # flow_euler at 1 and 2 steps, and flow_dpmpp_2m's 100-step reference (DPM++ 2M cannot run on SD 3)
    assert "UNet evaluations (image x UNet calls): 103 (reference: 100)" in result.stdout
