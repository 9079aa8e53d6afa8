"""Object storage for frames, grids and manifests: a local directory, an S3-compatible bucket, or memory (tests).

Clients never get storage URLs: the API serves every file at `/v1/comparisons/{id}/files/{path}`, behind the
same authentication as the job, for both backends. One URL scheme, no presigned links to leak or expire, and
MinIO can stay on the private network.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote, urlparse

from service.errors import StorageError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from service.settings import Settings


class ObjectNotFound(StorageError):
    """No object at that key."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    modified: datetime


class Storage(Protocol):
    """The one storage interface, the engine's writes included; keys are relative POSIX paths such as
    `comparisons/{id}/manifest.json`."""

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None: ...
    def get_bytes(self, key: str) -> bytes: ...
    def objects(self, prefix: str) -> Iterator[StoredObject]: ...
    def delete_prefix(self, prefix: str) -> int: ...
    def check(self) -> None: ...


def key_problem(key: str) -> str | None:
    """Why `key` cannot name a stored object, or None when it can: a relative path that stays in its folder."""
    path = PurePosixPath(key)
    if not key:
        return "is empty"
    if path.is_absolute():
        return "must be a relative path"
    if ".." in path.parts:
        return "must not contain '..'"
    if "\\" in key:
        return "must not contain a backslash"
    return None


def _safe_key(key: str) -> str:
    problem = key_problem(key)
    if problem is not None:
        raise StorageError(f"invalid storage key {key!r}: {problem}")
    return str(PurePosixPath(key))


class LocalStorage:
    """Files under a root directory, written atomically (a reader never sees half a PNG)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / _safe_key(key)

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError) as error:
            raise ObjectNotFound(key) from error

    def objects(self, prefix: str) -> Iterator[StoredObject]:
        base = self.root / prefix if prefix else self.root
        if not base.exists():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                stat = path.stat()
                key = path.relative_to(self.root).as_posix()
                yield StoredObject(key, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC))

    def delete_prefix(self, prefix: str) -> int:
        removed = 0
        for item in list(self.objects(_safe_key(prefix))):
            self._path(item.key).unlink(missing_ok=True)
            removed += 1
        return removed

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK):
            raise StorageError(f"{self.root} is not writable")


class MemoryStorage:
    """Files in memory, key -> bytes in write order: tests, benchmarks and the worker's warm-up runs."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.written_at: dict[str, datetime] = {}

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        key = _safe_key(key)
        self.files[key] = data
        self.written_at[key] = datetime.now(UTC)

    def get_bytes(self, key: str) -> bytes:
        try:
            return self.files[key]
        except KeyError as error:
            raise ObjectNotFound(key) from error

    def objects(self, prefix: str) -> Iterator[StoredObject]:
        for key in sorted(k for k in self.files if k.startswith(prefix)):
            yield StoredObject(key, len(self.files[key]), self.written_at[key])

    def delete_prefix(self, prefix: str) -> int:
        keys = [item.key for item in self.objects(_safe_key(prefix))]
        for key in keys:
            del self.files[key], self.written_at[key]
        return len(keys)

    def check(self) -> None:
        pass


class S3Storage:
    """An S3-compatible bucket (AWS, MinIO, R2) through boto3; credentials from the standard AWS variables."""

    def __init__(self, client: S3Client, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self.prefix + _safe_key(key), Body=data, ContentType=content_type
            )
        except Exception as error:
            raise StorageError(f"could not write {key} to s3://{self.bucket}/{self.prefix}: {error}") from error

    def get_bytes(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.prefix + _safe_key(key))
            return response["Body"].read()
        except self.client.exceptions.NoSuchKey as error:
            raise ObjectNotFound(key) from error
        except Exception as error:
            raise StorageError(f"could not read {key} from s3://{self.bucket}/{self.prefix}: {error}") from error

    def objects(self, prefix: str) -> Iterator[StoredObject]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            for item in page.get("Contents", []):
                key = item["Key"].removeprefix(self.prefix)
                yield StoredObject(key, item["Size"], item["LastModified"])

    def delete_prefix(self, prefix: str) -> int:
        keys = [self.prefix + item.key for item in self.objects(_safe_key(prefix))]
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch})  # type: ignore[typeddict-item]
        return len(keys)

    def check(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception as error:
            raise StorageError(f"bucket {self.bucket} is not reachable: {error}") from error


def storage_from_settings(settings: Settings) -> Storage:
    """The backend `SCHEDLAB_STORAGE_URL` names: file:///abs/dir or s3://bucket/prefix."""
    url = urlparse(settings.storage_url)
    if url.scheme == "file":
        return LocalStorage(Path(unquote(url.path)))
    if url.scheme == "s3":
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30),
        )
        return S3Storage(client, url.netloc, url.path)
    raise StorageError(f"SCHEDLAB_STORAGE_URL must start with file:// or s3://, got {settings.storage_url!r}")
