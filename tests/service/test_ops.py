"""Operations: retention, JSON logs, webhook signing, address checks and delivery, storage keys."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from service.contract import Webhook, WebhookEvent, utcnow
from service.errors import SpecError, StorageError
from service.logs import JobIdFilter, JsonFormatter, current_job_id
from service.retention import delete_comparisons, expired_comparisons
from service.storage import LocalStorage
from service.webhooks import WebhookSender, check_webhook_url, sign, verify
from tests.webhook_receiver import WebhookReceiver


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


def test_retention_keeps_a_comparison_while_any_of_its_files_is_recent(tmp_path: Path) -> None:
    # A retried or re-rendered comparison has old frames and new ones: its age is its newest file's.
    storage = LocalStorage(tmp_path)
    storage.put_bytes("comparisons/mixed/01-euler/grid.png", b"png", "image/png")
    storage.put_bytes("comparisons/mixed/manifest.json", b"{}", "application/json")
    ten_days_ago = time.time() - 10 * 86400
    os.utime(tmp_path / "comparisons" / "mixed" / "01-euler" / "grid.png", (ten_days_ago, ten_days_ago))
    assert expired_comparisons(storage, timedelta(days=7)) == []
    assert expired_comparisons(storage, timedelta(days=7), now=utcnow() + timedelta(days=8)) == ["mixed"]


def test_schedlab_cleanup_deletes_what_retention_lets_go_and_a_dry_run_only_lists_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from service import cli

    storage = LocalStorage(tmp_path)
    for job_id in ("old", "new"):
        storage.put_bytes(f"comparisons/{job_id}/manifest.json", b"{}", "application/json")
    ten_days_ago = time.time() - 10 * 86400
    os.utime(tmp_path / "comparisons" / "old" / "manifest.json", (ten_days_ago, ten_days_ago))
    monkeypatch.setenv("SCHEDLAB_STORAGE_URL", tmp_path.as_uri())
    monkeypatch.delenv("SCHEDLAB_RETENTION_DAYS", raising=False)

    def cleanup(*options: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli.app, ["cleanup", *options])
        return result.exit_code, result.output

    code, output = cleanup()  # no retention configured: refuse rather than guess
    assert code != 0 and "SCHEDLAB_RETENTION_DAYS" in output
    code, output = cleanup("--older-than-days", "7", "--dry-run")
    assert code == 0 and "old" in output.split() and "new" not in output.split()
    assert len(list(storage.objects("comparisons/"))) == 2
    monkeypatch.setenv("SCHEDLAB_RETENTION_DAYS", "7")
    code, output = cleanup()
    assert code == 0 and "deleted 1 comparisons (1 files)" in output
    assert [item.key for item in storage.objects("comparisons/")] == ["comparisons/new/manifest.json"]


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


def test_json_logs_keep_an_exceptions_traceback_in_the_same_line() -> None:
    try:
        raise RuntimeError("the UNet fell over")
    except RuntimeError:
        record = logging.LogRecord("worker.rq_job", logging.ERROR, __file__, 1, "job failed", (), sys.exc_info())
    text = JsonFormatter().format(record)
    assert "\n" not in text  # one line per record, however long the traceback: log pipelines split on lines
    line = json.loads(text)
    assert line["level"] == "error" and "job_id" not in line
    assert "Traceback" in line["exception"] and "RuntimeError: the UNet fell over" in line["exception"]


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


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/x", "must be an http or https URL"),
        ("http:///nohost", "must be an http or https URL"),
        ("http://user:pw@127.0.0.1/", "must not carry credentials"),  # refused for that, not for its address
    ],
)
def test_webhook_urls_must_be_plain_http(url: str, reason: str) -> None:
    with pytest.raises(SpecError) as error:
        check_webhook_url(url, allowed_hosts=["127.0.0.1"])
    assert reason in error.value.message


@pytest.fixture
def receivers() -> Iterator[list[WebhookReceiver]]:
    started: list[WebhookReceiver] = []
    yield started
    for receiver in started:
        receiver.close()


def deliver(url: str, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """One event through a WebhookSender (5 attempts, backoff 0.5 s); returns the backoff delays it asked for."""
    sleeps: list[float] = []
    monkeypatch.setattr("service.webhooks.time.sleep", sleeps.append)  # recorded, not waited
    sender = WebhookSender("secret", allowed_hosts=["127.0.0.1"], max_attempts=5, backoff_s=0.5)
    sender.send(Webhook(url=url), WebhookEvent.completed, "j1", {})
    sender.close()
    return sleeps


def test_a_failing_webhook_is_tried_5_times_with_doubling_delays(
    receivers: list[WebhookReceiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = WebhookReceiver(statuses=(503,))
    receivers.append(failing)
    sleeps = deliver(failing.url, monkeypatch)
    assert [request.path for request in failing.requests] == ["/hook"] * 5  # SCHEDLAB_WEBHOOK_MAX_ATTEMPTS
    assert sleeps == [0.5, 1.0, 2.0, 4.0]  # SCHEDLAB_WEBHOOK_BACKOFF_S, doubling each attempt


def test_a_webhook_redirect_is_not_followed(receivers: list[WebhookReceiver], monkeypatch: pytest.MonkeyPatch) -> None:
    # A receiver that passed the address check must not send the delivery on to an address that would not have.
    internal = WebhookReceiver()
    redirecting = WebhookReceiver(statuses=(307,), location=f"{internal.base_url}/metadata")
    receivers.extend([internal, redirecting])
    deliver(redirecting.url, monkeypatch)
    assert redirecting.requests and internal.requests == []
