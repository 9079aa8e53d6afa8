"""Faults, for real: injected model errors, a stopped S3 server, a restarted API, SIGTERM; plus webhooks,
metrics and the `schedlab submit` command against live processes. Bounded in time, loopback only."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from schedlab_client import Client

from tests.e2e.conftest import _stack, s3_backed_stack, s3_client
from tests.e2e.stack import start_moto
from tests.e2e.test_lifecycle import fetch, submit, wait_terminal
from tests.harness import BIN, Stack, wait_until
from tests.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.e2e

WEBHOOK_SECRET = "test-webhook-secret"


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver(statuses=(500, 204))  # fails the first delivery, to prove retries
    yield server
    server.close()


@pytest.fixture(scope="module")
def faulty_stack(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Iterator[Stack]:
    """API + one worker whose engine fails on demand, with webhooks on (loopback allowed)."""
    storage = tmp_path_factory.mktemp("faulty-storage")
    stack = _stack(
        tmp_path_factory,
        model_cache,
        storage.as_uri(),
        SCHEDLAB_WEBHOOK_SECRET=WEBHOOK_SECRET,
        SCHEDLAB_WEBHOOK_ALLOWED_HOSTS="127.0.0.1",
        SCHEDLAB_WEBHOOK_BACKOFF_S="0.1",
        SCHEDLAB_LOG_FORMAT="json",
    )
    try:
        stack.start_api()
        stack.start_worker("faulty", module="tests.e2e.faulty_worker")
        yield stack
    finally:
        stack.close()


def test_cuda_out_of_memory_fails_that_job_clearly_and_the_worker_keeps_serving(faulty_stack: Stack) -> None:
    client = Client(base_url=faulty_stack.base_url)
    failed = wait_terminal(client, submit(client, prompt="CUDA-OOM please").id)
    assert failed.status.value == "failed"
    assert "GPU ran out of memory" in (failed.error or "") and "fewer images" in (failed.error or "")
    chunk = wait_terminal(client, submit(client, prompt="UNET-OOM please", num_images=2, execution="batched").id)
    assert chunk.status.value == "failed"
    assert "chunk of" in (chunk.error or "") and "SCHEDLAB_MAX_BATCH" in (chunk.error or "")
    crashed = wait_terminal(client, submit(client, prompt="CRASH now").id)
    assert crashed.status.value == "failed" and "RuntimeError: injected model error" in (crashed.error or "")
    after = wait_terminal(client, submit(client).id)
    assert after.status.value == "succeeded"


def test_webhooks_are_signed_filtered_and_retried(faulty_stack: Stack, receiver: WebhookReceiver) -> None:
    from service.webhooks import SIGNATURE_HEADER, verify

    client = Client(base_url=faulty_stack.base_url)
    job = submit(client, webhook={"url": receiver.url})
    filtered = submit(client, webhook={"url": receiver.url, "events": ["completed"]})
    for current in (job, filtered):
        assert wait_terminal(client, current.id).status.value == "succeeded"
    wait_until(lambda: len(receiver.events(job.id)) == 4 and receiver.events(filtered.id), 30, "webhook deliveries")
    assert [e["event"] for e in receiver.events(job.id)] == ["started", "scheduler_done", "scheduler_done", "completed"]
    assert receiver.events(job.id)[-1]["data"]["status"] == "succeeded"
    assert [e["event"] for e in receiver.events(filtered.id)] == ["completed"]
    assert receiver.requests[0].status == 500  # the first delivery got a 500 and was retried
    for request in receiver.delivered():
        assert verify(WEBHOOK_SECRET, request.headers[SIGNATURE_HEADER], request.body)


def test_metrics_and_json_logs_reflect_finished_jobs(faulty_stack: Stack) -> None:
    client = Client(base_url=faulty_stack.base_url)
    wait_terminal(client, submit(client).id)
    metrics = httpx.get(f"{faulty_stack.base_url}/metrics").text
    calls = next(line for line in metrics.splitlines() if line.startswith("schedlab_unet_calls_total"))
    assert float(calls.split()[-1]) > 0
    assert 'schedlab_jobs_finished_total{status="succeeded"}' in metrics
    worker_log = next(p for p in faulty_stack.processes if p.name == "faulty").output()
    lines = [json.loads(line) for line in worker_log.splitlines() if line.startswith("{")]
    assert any(line.get("job_id") and "running on" in line["message"] for line in lines)


def test_schedlab_submit_waits_and_downloads(faulty_stack: Stack, tmp_path: Path) -> None:
    completed = subprocess.run(
        [
            str(BIN / "schedlab"),
            "submit",
            "--url",
            faulty_stack.base_url,
            "--prompt",
            "a blue square",
            "--scheduler",
            "euler",
            "--scheduler",
            "DPM++ 2M Karras",
            "--steps",
            "6",
            "--images",
            "2",
            "--wait",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=faulty_stack.env,
    )
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "01-euler" / "grid.png").exists() and (tmp_path / "02-dpmpp_2m_karras" / "grid.png").exists()
    assert json.loads((tmp_path / "manifest.json").read_text())["status"] == "succeeded"


def test_sigterm_lets_the_current_job_finish_then_the_worker_exits(faulty_stack: Stack) -> None:
    client = Client(base_url=faulty_stack.base_url)
    job = submit(client, schedulers=[{"name": "euler"}], steps=400, num_images=1, capture={"every": 100})
    wait_until(lambda: fetch(client, job.id).status.value == "running", 60, "the job to start")
    worker = next(p for p in faulty_stack.processes if p.name == "faulty")
    worker.popen.send_signal(signal.SIGTERM)
    done = wait_terminal(client, job.id)
    assert done.status.value == "succeeded"
    assert worker.popen.wait(60) == 0


def test_restarted_api_still_answers_and_queued_jobs_still_run(
    tmp_path_factory: pytest.TempPathFactory, model_cache: Path
) -> None:
    stack = _stack(tmp_path_factory, model_cache, tmp_path_factory.mktemp("restart-storage").as_uri())
    try:
        stack.start_api()
        client = Client(base_url=stack.base_url)
        queued = [submit(client) for _ in range(2)]
        stack.start_api()
        assert all(fetch(client, job.id).status.value == "queued" for job in queued)
        stack.start_worker("late")
        assert all(wait_terminal(client, job.id).status.value == "succeeded" for job in queued)
    finally:
        stack.close()


def test_object_storage_down_mid_job_fails_it_clearly_and_the_worker_keeps_serving(
    tmp_path_factory: pytest.TempPathFactory, model_cache: Path
) -> None:
    moto = start_moto()
    port = int(moto.endpoint.rsplit(":", 1)[1])
    stack = s3_backed_stack(tmp_path_factory, model_cache, moto)
    bucket = stack.env["TEST_BUCKET"]
    try:
        stack.start_api()
        stack.start_worker("s3")
        client = Client(base_url=stack.base_url)
        job = submit(client, schedulers=[{"name": "euler"}], steps=1000, num_images=1, capture={"every": 5})
        wait_until(lambda: (p := fetch(client, job.id).progress) and p[0].steps_done >= 20, 60, "frames to flow")
        moto.stop()
        failed = wait_terminal(client, job.id, timeout_s=120)
        assert failed.status.value == "failed" and "object storage failed" in (failed.error or "")
        moto = start_moto(port)
        s3_client(moto.endpoint).create_bucket(Bucket=bucket)
        assert wait_terminal(client, submit(client).id).status.value == "succeeded"
    finally:
        moto.stop()
        stack.close()
