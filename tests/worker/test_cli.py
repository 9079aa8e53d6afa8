"""`schedlab compare` and `schedlab schedulers`: the local CLI, in-process, no Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from service.contract import load_catalog

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
