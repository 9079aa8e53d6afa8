"""The API in-process (TestClient) against the real Redis: contract, errors, lifecycle records, auth."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from redis import Redis

from service.api.app import create_app
from service.contract import JobStatus, utcnow
from service.queue import ComparisonQueue
from service.redis_keys import RedisKeys
from service.settings import Settings
from service.workers import WorkerInfo

VALID = {
    "prompt": "a red circle",
    "schedulers": [{"name": "euler"}, {"name": "DPM++ 2M Karras"}],
    "steps": 10,
}


@pytest.fixture
def settings(redis_url: str, key_prefix: str, tmp_path: Path) -> Settings:
    return Settings(redis_url=redis_url, key_prefix=key_prefix, storage_url=tmp_path.as_uri())


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def _modules_loaded_by_the_api(settings: Settings) -> list[str]:
    """Every module a fresh interpreter holds after building the app and serving the main requests."""
    # In a fresh interpreter: this test process has torch and the worker loaded by the worker tests.
    program = f"""
import json
import sys
from fastapi.testclient import TestClient
from service.api.app import create_app
from service.settings import Settings
with TestClient(create_app(Settings.model_validate_json({settings.model_dump_json()!r}))) as client:
    job = client.post("/v1/comparisons", json={VALID!r})
    assert job.status_code == 202
    for path in ("/v1/schedulers", "/v1/models", "/readyz", "/metrics", "/v1/comparisons", job.json()["links"]["self"]):
        assert client.get(path).status_code in (200, 503), path
    assert client.post(job.json()["links"]["cancel"]).status_code == 202
print(json.dumps(sorted(sys.modules)))
"""
    output = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True).stdout
    return list(json.loads(output))


def test_the_api_process_never_imports_torch_or_diffusers(settings: Settings) -> None:
    loaded = _modules_loaded_by_the_api(settings)
    assert [name for name in ("torch", "diffusers", "transformers") if name in loaded] == []


def test_the_api_process_loads_no_module_of_the_worker(settings: Settings) -> None:
    loaded = _modules_loaded_by_the_api(settings)
    assert "service.api.app" in loaded
    assert [name for name in loaded if name == "worker" or name.startswith("worker.")] == []


def test_submit_answers_202_with_the_job_and_a_location(client: TestClient) -> None:
    response = client.post("/v1/comparisons", json=VALID)
    assert response.status_code == 202
    job = response.json()
    assert job["status"] == "queued" and job["queue_position"] == 0
    assert response.headers["location"] == job["links"]["self"]
    assert client.get(response.headers["location"]).json()["id"] == job["id"]
    assert job["spec"]["num_images"] == 4 and job["spec"]["frames"] == "latent"  # defaults filled in


def test_the_queued_rq_job_carries_the_job_id_and_nothing_of_the_spec(client: TestClient, settings: Settings) -> None:
    job_id = client.post("/v1/comparisons", json=VALID).json()["id"]
    queue = ComparisonQueue(Redis.from_url(settings.redis_url), settings.key_prefix, 60, settings.model)
    rq_job = queue.job(job_id)
    assert rq_job is not None and rq_job.args == [job_id] and rq_job.kwargs == {}
    assert "red circle" not in rq_job.get_call_string()  # the spec lives in the job record only


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**VALID, "steps": 0}, "steps"),
        ({**VALID, "steps": 5000}, "steps"),
        ({**VALID, "num_images": 17}, "num_images"),
        ({**VALID, "height": 100}, "height"),
        ({**VALID, "schedulers": [{"name": "nope"}]}, "schedulers[0].name"),
        ({**VALID, "schedulers": [{"name": "euler", "config": {"x": 1}}]}, "schedulers[0].config.x"),
        ({**VALID, "capture": {"steps": [11]}}, "capture.steps[0]"),
        ({**VALID, "unknown_field": 1}, "unknown_field"),
        ({"schedulers": [{"name": "euler"}]}, "prompt"),
        ({**VALID, "prompt": ""}, "prompt"),
        ({**VALID, "schedulers": "euler"}, "schedulers"),
        ({**VALID, "execution": "parallel"}, "execution"),
        ({**VALID, "execution": True}, "execution"),
    ],
)
def test_validation_errors_are_422_problem_json_naming_the_field(client: TestClient, body: dict, field: str) -> None:
    response = client.post("/v1/comparisons", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= problem.keys() and problem["status"] == 422
    assert problem["errors"][0]["field"] == field
    assert field in problem["detail"]


def test_configured_caps_are_422_naming_the_cap(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"max_steps": 20}))) as client:
        response = client.post("/v1/comparisons", json={**VALID, "steps": 25})
    assert response.status_code == 422
    assert "between 1 and 20" in response.json()["detail"]


def test_malformed_json_is_a_422_not_a_500(client: TestClient) -> None:
    response = client.post("/v1/comparisons", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_unknown_job_is_404_problem_json(client: TestClient) -> None:
    for response in (
        client.get("/v1/comparisons/does-not-exist"),
        client.post("/v1/comparisons/does-not-exist/cancel"),
        client.get("/v1/comparisons/does-not-exist/files/manifest.json"),
    ):
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


def test_a_file_path_out_of_the_comparison_is_a_422_naming_the_path_never_another_jobs_file(
    client: TestClient,
) -> None:
    own, other = (client.post("/v1/comparisons", json=VALID).json()["id"] for _ in range(2))
    client.app.state.storage.put_bytes(f"comparisons/{other}/manifest.json", b"{}", "application/json")
    assert client.get(f"/v1/comparisons/{other}/files/manifest.json").status_code == 200
    for path in (f"..%2F{other}%2Fmanifest.json", f"%2e%2e/{other}/manifest.json", "01-euler%5Cgrid.png"):
        response = client.get(f"/v1/comparisons/{own}/files/{path}")
        assert response.status_code == 422, path  # the client's path, not storage, is at fault: not a 503
        assert response.json()["errors"][0]["field"] == "path"
    assert "'..'" in client.get(f"/v1/comparisons/{own}/files/..%2F{other}%2Fmanifest.json").json()["detail"]
    too_long = client.get(f"/v1/comparisons/{own}/files/" + "a/" * 300)  # over the 512-character limit
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "path"


def test_storage_that_fails_is_a_503_problem_not_a_500(client: TestClient) -> None:
    from service.errors import StorageError
    from service.storage import MemoryStorage

    class DownStorage(MemoryStorage):
        def get_bytes(self, key: str) -> bytes:
            raise StorageError("could not read it: connection refused")

    job_id = client.post("/v1/comparisons", json=VALID).json()["id"]
    client.app.state.storage = DownStorage()  # type: ignore[attr-defined]
    response = client.get(f"/v1/comparisons/{job_id}/files/manifest.json")
    assert response.status_code == 503 and response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Storage unavailable" and "connection refused" in response.json()["detail"]


def test_a_method_the_path_does_not_have_is_405_listing_every_method_it_has(client: TestClient) -> None:
    response = client.delete("/v1/comparisons")
    assert response.status_code == 405 and response.headers["content-type"] == "application/problem+json"
    assert response.headers["allow"] == "GET, POST"  # list and submit: two routes, one path
    assert client.put("/v1/comparisons/some-job/cancel").headers["allow"] == "POST"


def test_cancel_a_queued_job_then_cancel_again_is_409(client: TestClient) -> None:
    job = client.post("/v1/comparisons", json=VALID).json()
    canceled = client.post(f"/v1/comparisons/{job['id']}/cancel")
    assert canceled.status_code == 202 and canceled.json()["status"] == "canceled"
    assert client.app.state.queue.depth() == 0  # type: ignore[attr-defined]
    again = client.post(f"/v1/comparisons/{job['id']}/cancel")
    assert again.status_code == 409 and "canceled" in again.json()["detail"]


def test_list_is_paginated_newest_first(client: TestClient) -> None:
    ids = [client.post("/v1/comparisons", json=VALID).json()["id"] for _ in range(3)]
    page = client.get("/v1/comparisons", params={"limit": 2}).json()
    assert page["count"] == 3 and [job["id"] for job in page["data"]] == ids[::-1][:2]
    rest = client.get("/v1/comparisons", params={"limit": 2, "offset": 2}).json()
    assert [job["id"] for job in rest["data"]] == ids[:1]


def test_schedulers_endpoint_lists_names_aliases_and_keys(client: TestClient) -> None:
    body = client.get("/v1/schedulers").json()
    by_id = {entry["id"]: entry for entry in body["data"]}
    assert "DPM++ 2M Karras" in [by_id["dpmpp_2m_karras"]["display_name"]]
    assert by_id["heun"]["order"] == 2 and by_id["euler_a"]["stochastic"]
    assert "use_karras_sigmas" in by_id["euler"]["config_keys"]
    assert by_id["edm_euler"]["available"] is False


def test_healthz_and_readyz_without_workers(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["redis"] is True and ready.json()["workers"] == []


def test_body_over_the_cap_is_413_and_a_body_at_the_cap_is_not(settings: Settings) -> None:
    def body_of(size: int) -> bytes:
        body = json.dumps({**VALID, "negative_prompt": ""}).encode()
        return json.dumps({**VALID, "negative_prompt": "x" * (size - len(body))}).encode()

    headers = {"Content-Type": "application/json"}
    with TestClient(create_app(settings.model_copy(update={"max_body_bytes": 2048}))) as client:
        at_cap = client.post("/v1/comparisons", content=body_of(2048), headers=headers)
        over = client.post("/v1/comparisons", content=body_of(2049), headers=headers)
        # Chunked, with no Content-Length to refuse it by: counted as it arrives.
        chunked_at_cap = client.post("/v1/comparisons", content=iter([body_of(2048)]), headers=headers)
        chunked_over = client.post("/v1/comparisons", content=iter([body_of(2049)]), headers=headers)
    assert len(body_of(2048)) == 2048 and at_cap.status_code == chunked_at_cap.status_code == 202
    for refused in (over, chunked_over):
        assert refused.status_code == 413 and "2048 bytes" in refused.json()["detail"]
    assert "content-length" not in chunked_over.request.headers


def test_queue_full_is_429_with_retry_after_and_keeps_accepted_jobs(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"max_queue_depth": 2}))) as client:
        accepted = [client.post("/v1/comparisons", json=VALID) for _ in range(2)]
        refused = client.post("/v1/comparisons", json=VALID)
        assert [r.status_code for r in accepted] == [202, 202]
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        for response in accepted:
            assert client.get(response.headers["location"]).json()["status"] == JobStatus.queued


def test_api_keys_guard_every_endpoint_but_health_and_hide_other_keys_jobs(settings: Settings) -> None:
    secured = settings.model_copy(update={"api_keys": Settings(api_keys="key-a,key-b").api_keys})
    with TestClient(create_app(secured)) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/v1/comparisons").status_code == 401
        assert client.post("/v1/comparisons", json=VALID, headers={"Authorization": "Bearer wrong"}).status_code == 401
        a = {"Authorization": "Bearer key-a"}
        b = {"Authorization": "Bearer key-b"}
        job = client.post("/v1/comparisons", json=VALID, headers=a).json()
        assert client.get(f"/v1/comparisons/{job['id']}", headers=a).status_code == 200
        assert client.get(f"/v1/comparisons/{job['id']}", headers=b).status_code == 404
        assert client.post(f"/v1/comparisons/{job['id']}/cancel", headers=b).status_code == 404
        assert client.get("/v1/comparisons", headers=b).json()["count"] == 0
        assert client.get("/v1/comparisons", headers=a).json()["count"] == 1
        # Its files too, though they are in storage: behind the job's key, and never in a shared cache.
        client.app.state.storage.put_bytes(f"comparisons/{job['id']}/01-euler/grid.png", b"png", "image/png")
        grid = f"/v1/comparisons/{job['id']}/files/01-euler/grid.png"
        assert client.get(grid, headers=b).status_code == 404
        assert client.get(grid).status_code == 401
        own = client.get(grid, headers=a)
        assert own.status_code == 200 and own.content == b"png" and own.headers["content-type"] == "image/png"
        assert own.headers["cache-control"].startswith("private")


def test_a_finished_jobs_cached_answer_keeps_its_owner_check_and_its_expiry(settings: Settings) -> None:
    secured = settings.model_copy(update={"api_keys": Settings(api_keys="key-a,key-b").api_keys})
    a, b = {"Authorization": "Bearer key-a"}, {"Authorization": "Bearer key-b"}
    with TestClient(create_app(secured)) as client:
        state = client.app.state
        job_id = client.post("/v1/comparisons", json=VALID, headers=a).json()["id"]
        assert state.store.start(job_id, "w1") and state.store.finish(job_id, JobStatus.succeeded)
        url = f"/v1/comparisons/{job_id}"
        assert client.get(url, headers=a).json()["status"] == JobStatus.succeeded
        assert state.finished_jobs.get(job_id, "http://testserver/") is not None  # rendered once, now cached
        assert client.get(url, headers=a).status_code == 200
        assert client.get(url, headers=b).status_code == 404  # another key's job, cached or not
        state.queue.remove(job_id)  # rq's record of it, which the test's clean-up finds only through the job's
        state.store.redis.delete(state.store.keys.job(job_id))  # the job expired from Redis
        assert client.get(url, headers=a).status_code == 404


def test_idempotency_key_returns_the_same_job_and_409_for_another_body(client: TestClient) -> None:
    headers = {"Idempotency-Key": "order-42"}
    first = client.post("/v1/comparisons", json=VALID, headers=headers)
    again = client.post("/v1/comparisons", json=VALID, headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert client.get("/v1/comparisons").json()["count"] == 1
    # Bound for a day, then free (README: "for 24 h"), not forever.
    app_state = client.app.state
    ttl = app_state.redis.ttl(RedisKeys(app_state.settings.key_prefix).idempotency("", "order-42"))
    assert 23 * 3600 < ttl <= 24 * 3600
    other = client.post("/v1/comparisons", json={**VALID, "seed": 1}, headers=headers)
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["detail"]


def test_webhook_to_a_private_address_is_422(settings: Settings) -> None:
    secret = Settings(webhook_secret="s3cret").webhook_secret
    with TestClient(create_app(settings.model_copy(update={"webhook_secret": secret}))) as client:
        response = client.post("/v1/comparisons", json={**VALID, "webhook": {"url": "http://127.0.0.1:8/hook"}})
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "webhook.url"
    with TestClient(create_app(settings)) as client:  # no secret: webhooks are off
        response = client.post("/v1/comparisons", json={**VALID, "webhook": {"url": "https://example.com/h"}})
        assert response.status_code == 422 and "SCHEDLAB_WEBHOOK_SECRET" in response.json()["detail"]


def test_metrics_in_prometheus_format(client: TestClient) -> None:
    client.post("/v1/comparisons", json=VALID)
    text = client.get("/metrics").text
    assert "schedlab_queue_depth 1.0" in text
    assert 'schedlab_jobs{status="queued"} 1.0' in text
    assert "schedlab_unet_evals_per_second" in text and "schedlab_job_duration_seconds_count" in text


def test_metrics_count_workers_jobs_durations_and_unet_rate_from_redis(client: TestClient) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    state = client.app.state  # type: ignore[attr-defined]
    ids = [client.post("/v1/comparisons", json=VALID).json()["id"] for _ in range(3)]
    for job_id, status, seconds in ((ids[0], JobStatus.succeeded, 30), (ids[1], JobStatus.failed, 10)):
        assert state.store.start(job_id, "w1")
        state.store.redis.hset(
            state.store.keys.job(job_id), "started_at", (utcnow() - timedelta(seconds=seconds)).isoformat()
        )
        assert state.store.finish(job_id, status)
    state.store.redis.hincrby(state.store.keys.stats, "unet_calls_total", 600)
    state.store.redis.hincrbyfloat(state.store.keys.stats, "unet_seconds_total", 4.0)
    state.store.redis.hset(state.store.keys.stats, "jobs_running", -1)  # a counter gone astray shows as none
    for name in ("w1", "w2"):
        info = WorkerInfo(name=name, model={}, schedulers=[], serves="tiny", pid=1, host="h", started_at=utcnow())
        state.workers.heartbeat(info, ttl_s=30)

    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(client.get("/metrics").text)
        for sample in family.samples
    }
    assert samples[("schedlab_workers", ())] == 2
    assert samples[("schedlab_queue_depth", ())] == 3  # rq's own count: no worker took the three jobs off it
    assert samples[("schedlab_jobs", (("status", "queued"),))] == 1
    assert samples[("schedlab_jobs", (("status", "running"),))] == 0
    assert samples[("schedlab_jobs_finished_total", (("status", "succeeded"),))] == 1
    assert samples[("schedlab_jobs_finished_total", (("status", "failed"),))] == 1
    assert samples[("schedlab_job_duration_seconds_count", (("status", "succeeded"),))] == 1
    assert samples[("schedlab_job_duration_seconds_sum", (("status", "succeeded"),))] == pytest.approx(30, abs=2)
    assert samples[("schedlab_job_duration_seconds_sum", (("status", "failed"),))] == pytest.approx(10, abs=2)
    assert samples[("schedlab_unet_calls_total", ())] == 600
    assert samples[("schedlab_unet_evals_per_second", ())] == 150.0


def test_unknown_query_parameters_are_422(client: TestClient) -> None:
    response = client.get("/v1/comparisons", params={"limit": 5, "limt": 5})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "limt"
    assert client.get("/v1/comparisons", params={"limit": 5, "offset": 0}).status_code == 200


def test_api_keys_from_a_file_of_hashed_and_plain_keys(settings: Settings, tmp_path: Path) -> None:
    import hashlib

    keys_file = tmp_path / "keys"
    keys_file.write_text(f"# team keys\nsha256:{hashlib.sha256(b'hashed-key').hexdigest()}\nplain-key\n")
    with TestClient(create_app(settings.model_copy(update={"api_keys_file": keys_file}))) as client:
        assert client.get("/v1/comparisons").status_code == 401
        for key in ("hashed-key", "plain-key"):
            assert client.get("/v1/comparisons", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        assert client.get("/v1/comparisons", headers={"Authorization": "Bearer sha256:x"}).status_code == 401
        # A comment line is not a key, whoever presents its text.
        assert client.get("/v1/comparisons", headers={"Authorization": "Bearer # team keys"}).status_code == 401


def test_api_keys_from_the_environment_are_comma_separated_with_spaces_around_them_ignored(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCHEDLAB_API_KEYS", "first-key, second-key ,")
    keys = Settings().api_keys
    assert [key.get_secret_value() for key in keys] == ["first-key", "second-key"]
    with TestClient(create_app(settings.model_copy(update={"api_keys": keys}))) as client:
        for key in ("first-key", "second-key"):
            assert client.get("/v1/comparisons", headers={"Authorization": f"Bearer {key}"}).status_code == 200


SWEEP = {
    "prompt": "a red circle",
    "schedulers": [{"name": "euler"}, {"name": "dpmpp_2m"}, {"name": "ddim"}],
    "steps": [5, 10, 20, 40],
    "guidance_scale": [4, 7.5],
    "num_images": 2,
}


@pytest.mark.parametrize(
    ("change", "field"),
    [({"steps": []}, "steps"), ({"guidance_scale": [4, 4]}, "guidance_scale"), ({"seed": [0, -5]}, "seed")],
)
def test_bad_sweep_axes_are_422_naming_the_field_and_nothing_is_queued(
    client: TestClient, change: dict, field: str
) -> None:
    for dry_run in ("false", "true"):
        response = client.post(f"/v1/comparisons?dry_run={dry_run}", json={**SWEEP, **change})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == field
    assert client.app.state.queue.depth() == 0  # type: ignore[attr-defined]
    assert client.get("/v1/comparisons").json()["count"] == 0


def test_a_sweep_over_the_cap_is_422_naming_the_cells_and_the_cap(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"max_unet_evals": 1000}))) as client:
        response = client.post("/v1/comparisons", json=SWEEP)
        assert response.status_code == 422
        detail = response.json()["detail"]
        assert "8 cells x 3 schedulers" in detail and "the limit is 1000" in detail
        assert client.app.state.queue.depth() == 0  # type: ignore[attr-defined]


def test_dry_run_answers_the_cost_from_the_live_workers_throughput_and_queues_nothing(client: TestClient) -> None:
    response = client.post("/v1/comparisons?dry_run=true", json=SWEEP)
    assert response.status_code == 200
    estimate = response.json()
    assert estimate["queued"] is False and estimate["estimated_seconds"] is None  # no worker measured yet
    assert len(estimate["cells"]) == 8 and estimate["cost"]["runs"] == 8 * 3 + 2
    evals = 2 * (3 * 2 * (5 + 10 + 20 + 40) + 2 * 100)
    assert estimate["cost"]["unet_evaluations"] == evals
    workers = client.app.state.workers  # type: ignore[attr-defined]
    model = client.app.state.settings.model  # type: ignore[attr-defined]
    for name, rate in (("w1", 100.0), ("w2", 300.0), ("w3", 800.0), ("w4", None)):
        info = WorkerInfo(
            name=name, model={}, schedulers=[], serves=model, pid=1, host="h", started_at=utcnow(), evals_per_s=rate
        )
        workers.heartbeat(info, ttl_s=30)
    estimate = client.post("/v1/comparisons?dry_run=true", json=SWEEP).json()
    assert (
        estimate["workers_measured"] == 3 and estimate["evals_per_s"] == 300.0
    )  # the median: one outlier can't sway it
    assert estimate["estimated_seconds"] == pytest.approx(evals / 300.0, abs=0.01)
    assert client.app.state.queue.depth() == 0  # type: ignore[attr-defined]
    assert client.get("/v1/comparisons").json()["count"] == 0
