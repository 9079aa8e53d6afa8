"""End-to-end fixtures: the tiny model built once, stacks on local-directory and S3 (moto) storage."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.conftest import TEST_REDIS_URL
from tests.e2e.stack import MotoServer, base_env, start_moto
from tests.harness import Stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model, built once before any worker starts (workers then only load it)."""
    from worker.tiny_model import ensure_tiny_model

    cache = tmp_path_factory.mktemp("model-cache")
    ensure_tiny_model(cache)
    return cache


def _stack(tmp_path_factory: pytest.TempPathFactory, model_cache: Path, storage_url: str, **env: str) -> Stack:
    prefix = f"schedlab-test-{uuid.uuid4().hex[:8]}"
    workdir = tmp_path_factory.mktemp(prefix)
    return Stack(env={**base_env(TEST_REDIS_URL, prefix, storage_url, model_cache), **env}, workdir=workdir)


@pytest.fixture(scope="module")
def file_stack(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Iterator[Stack]:
    """API + two workers on local-directory storage."""
    storage = tmp_path_factory.mktemp("storage")
    stack = _stack(tmp_path_factory, model_cache, storage.as_uri())
    try:
        stack.start_api()
        stack.start_worker("w1")
        stack.start_worker("w2")
        yield stack
    finally:
        stack.close()


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    server = start_moto()
    try:
        yield server
    finally:
        server.stop()


def s3_client(endpoint: str):  # type: ignore[no-untyped-def]
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def s3_backed_stack(
    tmp_path_factory: pytest.TempPathFactory, model_cache: Path, moto: MotoServer, prefix: str = ""
) -> Stack:
    """A stack (not started) whose storage is a fresh bucket on `moto`; its name is in env TEST_BUCKET."""
    bucket = f"frames-{uuid.uuid4().hex[:8]}"
    s3_client(moto.endpoint).create_bucket(Bucket=bucket)
    stack = _stack(
        tmp_path_factory,
        model_cache,
        f"s3://{bucket}/{prefix}".rstrip("/"),
        SCHEDLAB_S3_ENDPOINT_URL=moto.endpoint,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
    )
    stack.env["TEST_BUCKET"] = bucket
    return stack


@pytest.fixture(scope="module")
def s3_stack(tmp_path_factory: pytest.TempPathFactory, model_cache: Path, moto: MotoServer) -> Iterator[Stack]:
    """API + one worker on S3 storage served by moto over real HTTP."""
    stack = s3_backed_stack(tmp_path_factory, model_cache, moto, prefix="schedlab")
    try:
        stack.start_api()
        stack.start_worker("s3w1")
        yield stack
    finally:
        stack.close()
