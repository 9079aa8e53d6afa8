#!/usr/bin/env bash
# Use the Redis at 127.0.0.1:6379 if one answers; otherwise start one (no persistence) and wait for it.
set -euo pipefail
if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  exit 0
fi
if ! command -v redis-server >/dev/null; then
  echo "ensure-redis: no Redis answers on 127.0.0.1:6379 and redis-server is not installed;" \
       "install it: apt-get install -y redis-server" >&2
  exit 1
fi
echo "ensure-redis: starting redis-server on 127.0.0.1:6379"
redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
  --logfile /tmp/schedlab-redis.log
for _ in $(seq 50); do
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && exit 0
  sleep 0.1
done
echo "ensure-redis: redis-server did not come up; see /tmp/schedlab-redis.log" >&2
exit 1
