#!/usr/bin/env bash
# The main job end to end on the embedded defaults: an API and a worker (demo model, CPU, local storage) on
# the machine's Redis, the original experiment's nine scheduler variants submitted through the generated client,
# the results downloaded to demo-output/. Stops what it started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

out="${DEMO_OUT:-demo-output}"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export SCHEDLAB_KEY_PREFIX="schedlab-demo-$$"
export SCHEDLAB_STORAGE_URL="file://$PWD/var/demo-storage"
export SCHEDLAB_TORCH_THREADS="${SCHEDLAB_TORCH_THREADS:-1}"
mkdir -p var
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  redis-cli -n 0 --scan --pattern "${SCHEDLAB_KEY_PREFIX}*" | xargs -r redis-cli -n 0 del >/dev/null || true
}
trap cleanup EXIT

echo "demo: starting the API on :$port and a worker (model: ${SCHEDLAB_MODEL:-demo}); logs in var/demo-*.log"
schedlab api --port "$port" >var/demo-api.log 2>&1 & pids+=($!)
schedlab worker --name demo-worker >var/demo-worker.log 2>&1 & pids+=($!)
for _ in $(seq 600); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { echo "demo: the service did not become ready" >&2; tail var/demo-*.log >&2; exit 1; }

rm -rf "$out"
# The original experiment's nine variants: Euler, Euler a, DDIM from the model's config and with the explicit SD
# config, DDPM, DPM-Solver multistep and singlestep, LMS and PNDM.
schedlab submit --url "http://127.0.0.1:$port" \
  --prompt "${DEMO_PROMPT:-a red circle on a black background}" \
  --scheduler euler --scheduler euler_a --scheduler ddim --scheduler ddim_sd_explicit --scheduler ddpm \
  --scheduler dpmpp_2m --scheduler dpmpp_sde --scheduler lms --scheduler pndm \
  --steps "${DEMO_STEPS:-30}" --images 4 --seed 42 --capture-every 5 --wait --out "$out"

python3 - "$out/manifest.json" <<'PY'
import json, sys
manifest = json.load(open(sys.argv[1]))
rows = manifest["schedulers"]
print(f"\nmodel {manifest['model']['id']} on {manifest['model']['device']}, {manifest['spec']['steps']} steps")
print(f"{'scheduler':<20}{'wall s':>8}{'UNet calls':>12}{'emerged at':>12}{'colour ok':>11}{'shape ok':>10}")
chance = next((r["quality"] for r in rows if r.get("quality")), None)
for r in rows:
    quality = r.get("quality") or {}
    colour = f"{quality['colour_match']:.0%}" if quality else "-"
    shape = f"{quality['shape_match']:.0%}" if quality else "-"
    print(f"{r['name']:<20}{r['timings']['wall_s']:>8.2f}{r['timings']['unet_calls']:>12}"
          f"{str(r['emergence_step']):>12}{colour:>11}{shape:>10}")
if chance:
    print(f"(chance, for an image that ignores the prompt: colour {chance['colour_chance']:.0%}, "
          f"shape {chance['shape_chance']:.0%})")
emerged = [r for r in rows if r["emergence_step"] is not None]
if emerged:
    first = min(emerged, key=lambda r: (r["emergence_step"], r["timings"]["unet_calls"]))
    print(f"converged first: {first['name']} (x0 within {manifest['convergence']['emergence_threshold']} "
          f"of its final latent from step {first['emergence_step']})")
PY
echo "demo: grids are in $out/*/grid.png, the contact sheet in $out/contact-sheet.png"
