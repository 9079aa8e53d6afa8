"""The whole path over real HTTP with the generated client: API → Redis/rq → worker processes → storage."""

from __future__ import annotations

import json
import signal
import time
from typing import Any

import httpx
import pytest
from schedlab_client import Client
from schedlab_client.api.comparisons import (
    cancel_comparison,
    create_comparison,
    get_comparison,
    get_comparison_file,
    list_comparisons,
)
from schedlab_client.models import ComparisonPublic, ComparisonSpec, JobStatus, Problem

from tests.e2e.conftest import s3_client
from tests.harness import Stack, wait_until

pytestmark = pytest.mark.e2e

TERMINAL = {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED}


def submit(client: Client, **fields: Any) -> ComparisonPublic:
    body = {"prompt": "a red circle on a black background", "num_images": 2, "steps": 8, **fields}
    body.setdefault("schedulers", [{"name": "euler"}, {"name": "heun"}])
    response = create_comparison.sync_detailed(client=client, body=ComparisonSpec.from_dict(body))
    assert response.status_code == 202, response.content
    assert isinstance(response.parsed, ComparisonPublic)
    return response.parsed


def fetch(client: Client, job_id: str) -> ComparisonPublic:
    job = get_comparison.sync(job_id, client=client)
    assert isinstance(job, ComparisonPublic)
    return job


def wait_terminal(client: Client, job_id: str, timeout_s: float = 120) -> ComparisonPublic:
    def done() -> ComparisonPublic | None:
        job = fetch(client, job_id)
        return job if job.status in TERMINAL else None

    result: ComparisonPublic = wait_until(done, timeout_s, f"job {job_id} to finish", interval_s=0.1)
    return result


def download(client: Client, url: str) -> bytes:
    response = client.get_httpx_client().get(url)
    assert response.status_code == 200, url
    return response.content


def test_full_lifecycle_through_the_generated_client(file_stack: Stack) -> None:
    client = Client(base_url=file_stack.base_url)
    job = submit(
        client,
        # Batched (the default), heun's 2N-1 UNet calls outlast the others': their results appear while it runs.
        schedulers=[{"name": "euler"}, {"name": "heun"}, {"name": "DPM++ 2M Karras"}],
        steps=120,
        num_images=1,
        capture={"every": 40},
    )
    assert job.status is JobStatus.QUEUED
    seen: set[JobStatus] = set()
    partial_results_while_running = False
    progress_seen = False

    def poll() -> ComparisonPublic | None:
        nonlocal partial_results_while_running, progress_seen
        current = fetch(client, job.id)
        seen.add(current.status)
        if current.status is JobStatus.RUNNING:
            progress_seen |= any(p.steps_done > 0 for p in current.progress)
            partial_results_while_running |= 0 < len(current.results) < 3
        return current if current.status in TERMINAL else None

    done: ComparisonPublic = wait_until(poll, 120, "the job to finish", interval_s=0.02)
    assert done.status is JobStatus.SUCCEEDED, done.error
    assert JobStatus.RUNNING in seen and progress_seen
    assert partial_results_while_running, "results of finished schedulers should appear while later ones run"
    assert done.started_at and done.finished_at and done.started_at <= done.finished_at
    assert [r.id for r in done.results] == ["euler", "heun", "dpmpp_2m_karras"]  # the spec's order
    for result in done.results:
        assert sorted({frame.step for frame in result.frames}) == [40, 80, 120]
        assert download(client, result.grid_url).startswith(b"\x89PNG")
        assert download(client, result.final_images[0]).startswith(b"\x89PNG")
        assert result.timings.unet_calls >= 120
    manifest = json.loads(download(client, done.manifest_url))
    assert manifest["status"] == "succeeded" and len(manifest["schedulers"]) == 3
    assert download(client, done.contact_sheet_url).startswith(b"\x89PNG")
    listing = list_comparisons.sync(client=client)
    assert job.id in [item.id for item in listing.data]
    # The client's typed file download works too.
    file_response = get_comparison_file.sync_detailed(job.id, "manifest.json", client=client)
    assert file_response.status_code == 200 and json.loads(file_response.content)["status"] == "succeeded"


def test_results_readable_from_s3_storage(s3_stack: Stack) -> None:
    client = Client(base_url=s3_stack.base_url)
    job = submit(client)
    done = wait_terminal(client, job.id)
    assert done.status is JobStatus.SUCCEEDED, done.error
    assert download(client, done.results[1].grid_url).startswith(b"\x89PNG")
    bucket = s3_stack.env["TEST_BUCKET"]
    s3 = s3_client(s3_stack.env["SCHEDLAB_S3_ENDPOINT_URL"])
    keys = {
        item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix=f"schedlab/comparisons/{job.id}/")["Contents"]
    }
    assert f"schedlab/comparisons/{job.id}/manifest.json" in keys
    assert f"schedlab/comparisons/{job.id}/02-heun/grid.png" in keys
    assert len([key for key in keys if "/frames/" in key]) == len(done.results[0].frames) * 2


def test_cancel_while_queued_and_while_running(file_stack: Stack) -> None:
    client = Client(base_url=file_stack.base_url)
    long_jobs = [
        submit(client, schedulers=[{"name": "euler"}], steps=1000, num_images=1, capture={"every": 50})
        for _ in range(2)
    ]  # one per worker
    wait_until(lambda: all(fetch(client, j.id).status is JobStatus.RUNNING for j in long_jobs), 60, "both running")
    queued = submit(client)
    assert fetch(client, queued.id).queue_position == 0
    canceled = cancel_comparison.sync(queued.id, client=client)
    assert isinstance(canceled, ComparisonPublic) and canceled.status is JobStatus.CANCELED

    wait_until(lambda: all(fetch(client, j.id).progress[0].steps_done >= 60 for j in long_jobs), 60, "progress")
    for running in long_jobs:
        response = cancel_comparison.sync_detailed(running.id, client=client)
        assert response.status_code == 202
    for running in long_jobs:
        done = wait_terminal(client, running.id)
        assert done.status is JobStatus.CANCELED
        (result,) = done.results
        assert result.status == "canceled"
        steps = sorted({frame.step for frame in result.frames})
        assert steps and steps[-1] < 1000  # stopped early, kept its frames
        assert download(client, result.frames[-1].url).startswith(b"\x89PNG")
        conflict = cancel_comparison.sync_detailed(running.id, client=client)
        assert conflict.status_code == 409 and isinstance(conflict.parsed, Problem)

    time.sleep(1.0)  # both workers are free now: a canceled queued job must still never run
    never_ran = fetch(client, queued.id)
    assert never_ran.status is JobStatus.CANCELED and not never_ran.started_at and never_ran.results == []


def test_worker_side_error_fails_the_job_with_a_clear_message(file_stack: Stack) -> None:
    client = Client(base_url=file_stack.base_url)
    # Valid for the API (each key exists and is well-typed), rejected by diffusers when the worker builds it:
    # DPMSolverMultistep's first-order "dpmsolver" does not take its default final_sigmas_type="zero".
    job = submit(client, schedulers=[{"name": "dpmpp_2m", "config": {"algorithm_type": "dpmsolver"}}])
    done = wait_terminal(client, job.id)
    assert done.status is JobStatus.FAILED
    assert "schedulers[0].config" in (done.error or "") and "DPMSolverMultistepScheduler" in (done.error or "")
    ok = wait_terminal(client, submit(client).id)  # the workers keep serving
    assert ok.status is JobStatus.SUCCEEDED


def test_two_workers_share_the_queue(file_stack: Stack) -> None:
    client = Client(base_url=file_stack.base_url)
    jobs = [submit(client, schedulers=[{"name": "euler"}], steps=150, num_images=1) for _ in range(4)]
    done = [wait_terminal(client, job.id) for job in jobs]
    assert all(job.status is JobStatus.SUCCEEDED for job in done)
    readyz = httpx.get(f"{file_stack.base_url}/readyz").json()
    workers = {w["name"]: w for w in readyz["workers"]}
    assert len(workers) == 2 and all(w["jobs_done"] > 0 for w in workers.values()), workers
    assert all(w["model"]["id"] == "schedlab/tiny-sd" and w["model"]["device"] == "cpu" for w in workers.values())


def test_killed_worker_job_is_retried_on_another_worker(
    tmp_path_factory: pytest.TempPathFactory, model_cache: Any
) -> None:
    from tests.e2e.conftest import _stack

    storage = tmp_path_factory.mktemp("kill-storage")
    stack = _stack(tmp_path_factory, model_cache, storage.as_uri())
    try:
        stack.start_api()
        victim = stack.start_worker("victim")
        client = Client(base_url=stack.base_url)
        job = submit(client, schedulers=[{"name": "euler"}], steps=600, num_images=1, capture={"every": 100})
        wait_until(
            lambda: fetch(client, job.id).progress and fetch(client, job.id).progress[0].steps_done > 100,
            60,
            "the job to make progress on the victim",
        )
        victim.stop(signal.SIGKILL)
        rescuer = stack.start_worker("rescuer")
        done = wait_terminal(client, job.id, timeout_s=120)
        assert done.status is JobStatus.SUCCEEDED, done.error
        assert done.attempts == 2 and done.error is None
        assert rescuer.alive()
    finally:
        stack.close()
