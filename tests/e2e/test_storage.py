"""One storage interface, three backends that keep the same promises: local directory, memory, and S3 (moto's
server over real HTTP, with boto3, as MinIO is used in compose)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from service.contract import utcnow
from service.errors import StorageError
from service.retention import delete_comparisons, expired_comparisons
from service.storage import LocalStorage, MemoryStorage, ObjectNotFound, S3Storage, Storage
from tests.e2e.conftest import s3_client
from tests.e2e.stack import MotoServer

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["local", "memory", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    if request.param == "local":
        yield LocalStorage(tmp_path)
    elif request.param == "memory":
        yield MemoryStorage()
    else:
        moto: MotoServer = request.getfixturevalue("moto")
        client = s3_client(moto.endpoint)
        bucket = f"storage-{uuid.uuid4().hex[:8]}"
        client.create_bucket(Bucket=bucket)
        client.put_object(Bucket=bucket, Key="elsewhere/comparisons/x/manifest.json", Body=b"not ours")
        yield S3Storage(client, bucket, "/tenant/")  # slashes around the prefix are the user's; keys are not


def test_a_stored_object_reads_back_and_is_listed_by_its_own_key(storage: Storage) -> None:
    storage.put_bytes("comparisons/a/01-euler/grid.png", b"png", "image/png")
    storage.put_bytes("comparisons/a/manifest.json", b"{}", "application/json")
    storage.put_bytes("comparisons/b/manifest.json", b"{}", "application/json")
    assert storage.get_bytes("comparisons/a/01-euler/grid.png") == b"png"
    listed = list(storage.objects("comparisons/a/"))
    assert [(item.key, item.size) for item in listed] == [
        ("comparisons/a/01-euler/grid.png", 3),
        ("comparisons/a/manifest.json", 2),
    ]
    assert all(abs(item.modified - utcnow()) < timedelta(minutes=5) for item in listed)
    with pytest.raises(ObjectNotFound):
        storage.get_bytes("comparisons/a/missing.png")
    with pytest.raises(StorageError):
        storage.put_bytes("comparisons/../escape.png", b"x", "image/png")


def test_deleting_a_comparison_takes_all_its_files_and_nothing_else(storage: Storage) -> None:
    many = 3
    delete_requests: list[int] = []
    if isinstance(storage, S3Storage):
        many = 1001  # S3 and MinIO refuse a DeleteObjects of over 1000 keys (moto does not: count them here)

        def count_keys(params: dict[str, Any], **_: Any) -> None:
            delete_requests.append(len(params["Delete"]["Objects"]))

        storage.client.meta.events.register("before-parameter-build.s3.DeleteObjects", count_keys)
    for index in range(many):
        storage.put_bytes(f"comparisons/old/frames/{index:04d}.png", b"x", "image/png")
    storage.put_bytes("comparisons/new/manifest.json", b"{}", "application/json")
    assert expired_comparisons(storage, timedelta(days=7)) == []
    assert expired_comparisons(storage, timedelta(days=7), now=utcnow() + timedelta(days=8)) == ["new", "old"]
    assert delete_comparisons(storage, ["old"]) == many
    if isinstance(storage, S3Storage):
        assert delete_requests == [1000, 1]
    assert [item.key for item in storage.objects("comparisons/")] == ["comparisons/new/manifest.json"]
