#!/usr/bin/env bash
# GPU smoke test: one comparison per built-in tiny model (tiny SD 1.x, tiny-sdxl, tiny-sd2-v, tiny-sd3, tiny-flux),
# on CUDA, with no network.
#
#   scripts/gpu-smoke.sh [OUT_DIR]                 # host with an NVIDIA GPU and `pip install ".[worker]"`
#   docker compose run --rm -e CUDA_VISIBLE_DEVICES=0 worker schedlab-gpu-smoke    # inside the worker image
#
# Runs `schedlab compare` in-process (no Redis, no storage service) for each family with a first-order, an order-2
# (where the family has one), a stochastic or flow-sigma solver and a fourth scheduler, prints device, dtype,
# per-scheduler timings and peak GPU memory from each manifest, and exits non-zero if a run fails, the device is
# not CUDA, the dtype is not the family's (float16 for SD/SDXL, bfloat16 for SD 3/Flux, unless SCHEDLAB_DTYPE says
# otherwise), a scheduler is missing from a manifest, or an order-2 scheduler did not call the UNet more often
# than its first-order partner.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# model | its dtype on CUDA | schedulers (first-order first, then its order-2 partner when there is one)
runs=(
  "tiny|float16|euler heun euler_a ddim"
  "tiny-sdxl|float16|euler heun euler_a dpmpp_2m_karras"
  "tiny-sd2-v|float16|euler heun ddim_zero_snr dpmpp_2m"
  "tiny-sd3|bfloat16|flow_euler flow_heun flow_dpmpp_2m flow_unipc"
  "tiny-flux|bfloat16|flow_euler flow_euler_karras flow_dpmpp_2m flow_unipc"
)

# 1. Find schedlab and the Python it is installed in (PATH first, then the repository's .venv).
if command -v schedlab >/dev/null 2>&1; then
  schedlab_bin="$(command -v schedlab)"
elif [[ -x "${repo_root}/.venv/bin/schedlab" ]]; then
  schedlab_bin="${repo_root}/.venv/bin/schedlab"
else
  echo "gpu-smoke: schedlab not found; install it with: pip install '.[worker]'" >&2
  exit 1
fi
python_bin="$(dirname "${schedlab_bin}")/python"
[[ -x "${python_bin}" ]] || python_bin="python3"

# 2. No network: the tiny model is built in, so nothing may reach the Hugging Face Hub.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1

# 3. Check that torch sees a GPU before running anything.
"${python_bin}" -c '
import sys, torch
if not torch.cuda.is_available():
    sys.exit(f"gpu-smoke: torch {torch.__version__} (CUDA build: {torch.version.cuda}) sees no GPU")
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.device_count()} GPU(s), "
      f"using {torch.cuda.get_device_name(0)}")
'

# 4. Run each family's comparison, then read its manifest (Python reads JSON; bash does not) and check it.
out_root="${1:-$(mktemp -d "${TMPDIR:-/tmp}/schedlab-gpu-smoke.XXXXXX")}"
for run in "${runs[@]}"; do
  IFS='|' read -r model family_dtype scheduler_list <<<"${run}"
  read -r -a schedulers <<<"${scheduler_list}"
  out_dir="${out_root}/${model}"
  mkdir -p "${out_dir}"
  scheduler_args=()
  for name in "${schedulers[@]}"; do
    scheduler_args+=(--scheduler "${name}")
  done
  echo "gpu-smoke: schedlab compare --model ${model} -> ${out_dir}"
  "${schedlab_bin}" compare \
    --prompt "a lighthouse on a cliff at dusk" \
    "${scheduler_args[@]}" \
    --steps 10 --images 2 --seed 1 \
    --capture-every 2 --frames latent --decoder vae \
    --model "${model}" --device cuda \
    --out "${out_dir}"

  expected_dtype="${SCHEDLAB_DTYPE:-auto}"
  [[ "${expected_dtype}" == "auto" ]] && expected_dtype="${family_dtype}"
  "${python_bin}" - "${out_dir}/manifest.json" "${expected_dtype}" "${schedulers[@]}" <<'PY'
import json, sys

manifest_path, expected_dtype, *requested = sys.argv[1:]
with open(manifest_path) as f:
    manifest = json.load(f)
model = manifest["model"]
schedulers = manifest["schedulers"]
peak = manifest.get("peak_memory_bytes")

print(f"model:  {model.get('id')} ({model.get('family')}, {model.get('prediction_type')})")
print(f"device: {model['device']}")
print(f"dtype:  {model['dtype']}")
print(f"{'scheduler':<24} {'wall_s':>9} {'unet_calls':>10}")
for entry in schedulers:
    timings = entry["timings"]
    print(f"{entry['id']:<24} {timings['wall_s']:>9.3f} {timings['unet_calls']:>10d}")
print("peak GPU memory: " + (f"{peak / 2**20:.1f} MiB" if isinstance(peak, int) else "not recorded"))

problems = []
if not str(model['device']).startswith("cuda"):
    problems.append(f"device is {model['device']!r}, not cuda")
if model['dtype'] != expected_dtype:
    problems.append(f"dtype is {model['dtype']!r}, expected {expected_dtype!r}")
by_id = {entry['id']: entry for entry in schedulers}
missing = [name for name in requested if name not in by_id]
if missing or len(schedulers) != len(requested):
    problems.append(f"requested {requested}, the manifest has {sorted(by_id)} (missing: {missing})")
for entry in schedulers:
    if entry["timings"]["unet_calls"] <= 0 or entry["timings"]["wall_s"] <= 0:
        problems.append(f"{entry['id']}: no UNet calls or no time recorded")
for first, second in (("euler", "heun"), ("flow_euler", "flow_heun")):
    if first in by_id and second in by_id:
        if by_id[second]["timings"]["unet_calls"] <= by_id[first]["timings"]["unet_calls"]:
            problems.append(f"{second} (order 2) made no more UNet calls than {first} at the same steps")
if not isinstance(peak, int) or peak <= 0:
    problems.append(f"peak_memory_bytes is {peak!r}, expected a positive number on CUDA")

for problem in problems:
    print(f"gpu-smoke: FAIL ({manifest_path}): {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
done

echo "gpu-smoke: OK (${out_root})"
