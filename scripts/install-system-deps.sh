#!/usr/bin/env bash
# Debian packages the checks need: docker-compose (v1, for `docker-compose config`), redis-server, and chromium
# (the viewer's browser tests drive /usr/bin/chromium with Playwright; Playwright's own browser download is not used).
set -euo pipefail
missing=()
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v redis-server >/dev/null || missing+=(redis-server)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
((${#missing[@]})) || exit 0
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
