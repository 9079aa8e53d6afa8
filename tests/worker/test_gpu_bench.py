"""The GPU benchmark's CPU mode runs the real engine end to end, both execution modes, and writes its data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import gpu_bench


def test_gpu_bench_tiny_cpu_mode_compares_batched_with_sequential(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    cache = tmp_path_factory.getbasetemp() / "gpu-bench-cache"
    argv = ["--out", str(tmp_path), "--model", "tiny", "--device", "cpu", "--steps", "4", "--size", "64"]
    argv += ["--images", "2", "--every", "2", "--threads", "1", "--cache-dir", str(cache)]
    argv += ["--schedulers", "euler", "euler_a", "heun", "pndm"]
    data = gpu_bench.main(argv)

    assert json.loads((tmp_path / "gpu_bench.json").read_text()) == data
    assert [(r["compile"], r["execution"]) for r in data["runs"]] == [(False, "batched"), (False, "sequential")]
    batched, sequential = data["runs"]
    # 4 schedulers x 2 images: euler, euler_a 4 calls, heun 2*4-1, pndm 4+1
    assert batched["image_evaluations"] == sequential["image_evaluations"] == 2 * (4 + 4 + 7 + 5)
    assert batched["execution_record"]["mode"] == "batched"
    assert batched["execution_record"]["tick_batch_sizes"] == {"16": 4, "8": 1, "4": 2}  # all four; heun+pndm; heun
    assert sequential["execution_record"]["unet_batch_size"] == 4
    assert batched["frames_per_scheduler"] == 2  # steps 2 and 4
    (comparison,) = data["comparisons"]
    assert comparison["speedup_batched_over_sequential"] > 0
    assert comparison["final_latents_max_abs_diff"] <= 1e-4
    assert comparison["final_pixels_within_1_level"] >= 0.999
    assert data["experiment"]["model"] == "schedlab/tiny-sd" and data["environment"]["device"] == "cpu"

    from benchmarks.readme_sections.gpu_bench import render

    section = render(data)  # the README section the GPU figures are shown in renders this data too
    assert "| off | batched |" in section and "batched is **" in section
