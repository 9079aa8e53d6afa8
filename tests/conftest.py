"""Fixtures for every test: the test Redis database and a key prefix per test, cleaned up after."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from redis import Redis

from service.redis_keys import RedisKeys

# Tests use their own Redis database, and a key prefix per test that they delete afterwards.
TEST_REDIS_URL = os.environ.get("SCHEDLAB_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


@pytest.fixture
def redis_url() -> str:
    return TEST_REDIS_URL


@pytest.fixture
def key_prefix() -> Iterator[str]:
    """A unique prefix for schedlab's keys and rq queue name; every key naming it (or its jobs) is removed after."""
    prefix = f"schedlab-test-{uuid.uuid4().hex[:8]}"
    yield prefix
    cleanup_redis(prefix)


def cleanup_redis(prefix: str) -> None:
    RedisKeys(prefix).delete_everything(Redis.from_url(TEST_REDIS_URL, decode_responses=True))
