"""Idempotency keys: a client's `Idempotency-Key` bound to the job its first request created, for a day."""

from __future__ import annotations

import hashlib
import json
from typing import cast

from redis import Redis

from service.contract import ComparisonSpec
from service.errors import JobStateError
from service.redis_keys import RedisKeys

IDEMPOTENCY_TTL_S = 24 * 3600


class IdempotencyKeys:
    """Per owner: key -> (the request body's digest, the job id), in Redis, so every API replica agrees."""

    def __init__(self, redis: Redis, prefix: str, ttl_s: int = IDEMPOTENCY_TTL_S) -> None:
        self.redis = redis
        self.keys = RedisKeys(prefix)
        self.ttl_s = ttl_s

    def claim(self, owner: str, key: str, spec: ComparisonSpec, job_id: str) -> str | None:
        """Bind `key` to `job_id`: None when it was free; the job it names already when it is bound to the same
        body; `JobStateError` when it is bound to another body."""
        body = hashlib.sha256(spec.model_dump_json().encode()).hexdigest()
        redis_key = self.keys.idempotency(owner, key)
        if self.redis.set(redis_key, json.dumps({"body": body, "job_id": job_id}), nx=True, ex=self.ttl_s):
            return None
        bound = json.loads(cast(str, self.redis.get(redis_key)))
        if bound["body"] != body:
            raise JobStateError("this Idempotency-Key was used with a different request body")
        return str(bound["job_id"])

    def release(self, owner: str, key: str) -> None:
        """Free a key whose request failed, so its retry is a new request."""
        self.redis.delete(self.keys.idempotency(owner, key))
