#!/usr/bin/env bash
# The original experiment at SD 1.5 size on one GPU: sequential vs batched execution, with and without
# torch.compile (benchmarks/gpu_bench.py; its docstring lists every package it imports).
#
#   scripts/gpu-bench.sh OUT_DIR [gpu_bench flags...]     e.g. scripts/gpu-bench.sh out --compile off
#
# Builds `sd15-random` (SD 1.5's architecture, seeded random weights, ~2 GB in float16) on the GPU on first use
# into SCHEDLAB_MODEL_CACHE_DIR (default ~/.cache/schedlab), then runs 9 variants x 4 images x 100 steps at 512x512,
# a frame every 10 steps, fp16, SDPA; prints seconds, image-evaluations/s, peak memory and the batched/sequential
# ratio, and writes OUT_DIR/gpu_bench.json. No network: nothing is downloaded.
set -euo pipefail

if [[ $# -lt 1 || "$1" == -* ]]; then
  echo "usage: scripts/gpu-bench.sh OUT_DIR [gpu_bench flags...]" >&2
  exit 2
fi
out_dir="$1"
shift
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python_bin="${PYTHON:-python3}"
[[ -x "${repo_root}/.venv/bin/python" && -z "${PYTHON:-}" ]] && python_bin="${repo_root}/.venv/bin/python"

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1
export PYTHONPATH="${repo_root}${PYTHONPATH:+:${PYTHONPATH}}"
cd "${repo_root}"
exec "${python_bin}" -m benchmarks.gpu_bench --out "${out_dir}" "$@"
