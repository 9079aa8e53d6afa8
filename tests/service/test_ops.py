"""Operations: retention, JSON logs, webhook signing and address checks, storage keys."""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest

from service.errors import SpecError, StorageError
from service.logs import JobIdFilter, JsonFormatter, current_job_id
from service.retention import delete_comparisons, expired_comparisons
from service.storage import LocalStorage
from service.webhooks import check_webhook_url, sign, verify


def test_retention_deletes_only_comparisons_older_than_the_cutoff(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    for job_id in ("old", "new"):
        storage.put_bytes(f"comparisons/{job_id}/manifest.json", b"{}", "application/json")
        storage.put_bytes(f"comparisons/{job_id}/01-euler/grid.png", b"png", "image/png")
    ten_days_ago = time.time() - 10 * 86400
    for path in (tmp_path / "comparisons" / "old").rglob("*"):
        os.utime(path, (ten_days_ago, ten_days_ago))
    assert expired_comparisons(storage, timedelta(days=7)) == ["old"]
    assert delete_comparisons(storage, ["old"]) == 2
    assert [item.key for item in storage.objects("comparisons/")] == [
        "comparisons/new/01-euler/grid.png",
        "comparisons/new/manifest.json",
    ]


def test_local_storage_refuses_keys_that_escape_its_root(tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        LocalStorage(tmp_path).put_bytes("../outside.png", b"x", "image/png")


def test_json_logs_carry_the_job_id() -> None:
    record = logging.LogRecord("worker.rq_job", logging.INFO, __file__, 1, "job %s: running", ("abc",), None)
    token = current_job_id.set("abc")
    try:
        JobIdFilter().filter(record)
    finally:
        current_job_id.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["job_id"] == "abc" and line["message"] == "job abc: running" and line["level"] == "info"


def test_webhook_signature_round_trip_and_staleness() -> None:
    body = b'{"event":"completed"}'
    header = sign("secret", int(time.time()), body)
    assert verify("secret", header, body)
    assert not verify("other", header, body)
    assert not verify("secret", header, body + b" ")
    assert not verify("secret", sign("secret", int(time.time()) - 3600, body), body)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/x", "http://localhost/x", "http://10.0.0.5/x", "http://169.254.169.254/latest"]
)
def test_webhooks_to_internal_addresses_are_refused(url: str) -> None:
    with pytest.raises(SpecError) as error:
        check_webhook_url(url, allowed_hosts=[])
    assert error.value.field == "webhook.url"


def test_webhook_allow_list_admits_an_internal_receiver() -> None:
    check_webhook_url("http://127.0.0.1:9/x", allowed_hosts=["127.0.0.0/8"])
    check_webhook_url("http://localhost:9/x", allowed_hosts=["localhost"])


@pytest.mark.parametrize("url", ["ftp://example.com/x", "http:///nohost", "http://user:pw@example.com/"])
def test_webhook_urls_must_be_plain_http(url: str) -> None:
    with pytest.raises(SpecError):
        check_webhook_url(url, allowed_hosts=[])
