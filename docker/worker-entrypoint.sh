#!/usr/bin/env bash
# Entrypoint of the worker image: give this container one GPU of its own, then exec the command.
#
# Why: Docker maps a `count: N` GPU request to the GPUs 0..N-1 whatever other containers hold, so with
# `count: 1`, `docker compose up --scale worker=N` would stack every worker on GPU 0. Instead docker-compose.yml
# hands every worker all GPUs (`count: all`) and each worker claims the first GPU that no other worker holds:
# an exclusive flock on $GPU_LOCK_DIR/<GPU UUID>.lock, in the /cache volume that all workers share. The lock
# belongs to an open file that the exec'd worker inherits, so it is held exactly as long as the worker process
# lives; a crash or a SIGKILL releases it and leaves nothing stale.
#
# Skipped when CUDA_VISIBLE_DEVICES is already set (the GPU was chosen by hand) or when the container has no
# NVIDIA runtime (no nvidia-smi; the worker then does what SCHEDLAB_DEVICE says, and `cuda` fails loudly).
set -euo pipefail

log() { printf 'schedlab-claim-gpu: %s\n' "$*" >&2; }

if [[ -n "${CUDA_VISIBLE_DEVICES+set}" ]]; then
  log "CUDA_VISIBLE_DEVICES='${CUDA_VISIBLE_DEVICES}' is set; using it as is"
  exec "$@"
fi
if ! command -v nvidia-smi >/dev/null 2>&1; then
  log "nvidia-smi not found: no NVIDIA runtime in this container (is the NVIDIA Container Toolkit set up?)"
  exec "$@"
fi

if ! listing=$(nvidia-smi --query-gpu=uuid --format=csv,noheader 2>&1); then
  log "nvidia-smi failed: ${listing}"
  exit 1
fi
mapfile -t gpus < <(printf '%s\n' "${listing}" | sed -e 's/[[:space:]]//g' -e '/^$/d')
if ((${#gpus[@]} == 0)); then
  log "nvidia-smi lists no GPU"
  exit 1
fi

lock_dir="${GPU_LOCK_DIR:-/cache/gpu-locks}"
mkdir -p "${lock_dir}"
for uuid in "${gpus[@]}"; do
  lock_file="${lock_dir}/${uuid}.lock"
  exec {lock_fd}>>"${lock_file}"
  if flock --nonblock "${lock_fd}"; then
    # Who holds it, for people reading the lock directory; the lock itself stays on lock_fd.
    printf '%s since %s\n' "${HOSTNAME:-unknown}" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"${lock_file}"
    export CUDA_VISIBLE_DEVICES="${uuid}"
    log "claimed GPU ${uuid} (${lock_file})"
    exec "$@"
  fi
  exec {lock_fd}>&-
done

log "all ${#gpus[@]} GPU(s) are held by other workers (locks in ${lock_dir});" \
  "run at most one worker per GPU, or set CUDA_VISIBLE_DEVICES to share one on purpose"
exit 1
