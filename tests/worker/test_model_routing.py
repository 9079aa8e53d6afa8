"""Several models in one deployment: the API validates a spec against the catalog its model's workers registered
(real catalogs from the worker registry, real Redis, the app in-process) and queues it on that model's queue."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from redis import Redis

from service.api.app import create_app
from service.contract import Catalog, ModelInfo
from service.queue import ComparisonQueue
from service.settings import Settings
from service.workers import WorkerInfo, WorkerRegistry
from worker.families import family_of
from worker.pipeline_files import SD15_SCHEDULER_CONFIG
from worker.registry import model_catalog
from worker.tiny_families import FLUX_DEV_SCHEDULER_CONFIG, SDXL_SCHEDULER_CONFIG

SPEC = {"prompt": "a red circle", "steps": 10, "num_images": 1}


def _register(workers: WorkerRegistry, name: str, pipeline: str, scheduler_config: dict, live: bool = True) -> Catalog:
    family = family_of({"_class_name": pipeline})
    info = ModelInfo(
        name=name,
        id=f"schedlab/{name}",
        family=family.name,
        pipeline=pipeline,
        prediction_type="flow" if family.flow_matching else "epsilon",
        default_size=64,
        size_multiple=16 if family.flow_matching else 8,
        takes_negative_prompt=family.takes_negative_prompt,
    )
    catalog = model_catalog(family, scheduler_config, info)
    workers.register_model(catalog, ttl_s=60)
    if live:
        worker = WorkerInfo(
            name=f"worker-{name}",
            model={"id": info.id},
            schedulers=[e.id for e in catalog.available()],
            serves=name,
            pid=1,
            host="test",
            started_at=datetime.now(UTC),
        )
        workers.heartbeat(worker, ttl_s=60)
    return catalog


@pytest.fixture
def settings(redis_url: str, key_prefix: str, tmp_path: Path) -> Settings:
    return Settings(redis_url=redis_url, key_prefix=key_prefix, storage_url=tmp_path.as_uri(), model="tiny")


@pytest.fixture
def workers(settings: Settings) -> WorkerRegistry:
    return WorkerRegistry(Redis.from_url(settings.redis_url, decode_responses=True), settings.key_prefix)


@pytest.fixture
def client(settings: Settings, workers: WorkerRegistry) -> Iterator[TestClient]:
    _register(workers, "tiny", "StableDiffusionPipeline", {"_class_name": "PNDMScheduler", **SD15_SCHEDULER_CONFIG})
    _register(workers, "tiny-flux", "FluxPipeline", FLUX_DEV_SCHEDULER_CONFIG)
    with TestClient(create_app(settings)) as client:
        yield client


def test_a_job_goes_to_its_models_queue_and_the_default_when_unset(client: TestClient, settings: Settings) -> None:
    flux = client.post("/v1/comparisons", json={**SPEC, "model": "tiny-flux", "schedulers": [{"name": "flow_euler"}]})
    default = client.post("/v1/comparisons", json={**SPEC, "schedulers": [{"name": "euler"}]})
    assert flux.status_code == default.status_code == 202, (flux.text, default.text)
    assert flux.json()["spec"]["model"] == "tiny-flux" and default.json()["spec"]["model"] == "tiny"
    queue = ComparisonQueue(Redis.from_url(settings.redis_url), settings.key_prefix, 60, "tiny")
    assert queue.for_model("tiny-flux").job_ids == [flux.json()["id"]]
    assert queue.for_model("tiny").job_ids == [default.json()["id"]]
    assert queue.depth() == 2
    assert flux.json()["queue_position"] == 0 and default.json()["queue_position"] == 0
    canceled = client.post(f"/v1/comparisons/{flux.json()['id']}/cancel")
    assert canceled.json()["status"] == "canceled" and queue.for_model("tiny-flux").job_ids == []


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"model": "tiny-flux", "schedulers": [{"name": "flow_heun"}]}, "schedulers[0].name", "sigmas and mu"),
        ({"model": "tiny-flux", "schedulers": [{"name": "euler"}]}, "schedulers[0].name", "not a flow-matching"),
        ({"schedulers": [{"name": "flow_euler"}]}, "schedulers[0].name", "is a flow-matching scheduler"),
        ({"schedulers": [{"name": "ddim", "config": {"use_karras_sigmas": True}}]}, "use_karras_sigmas", "DDIM"),
        ({"model": "tiny-flux", "negative_prompt": "x", "schedulers": [{"name": "flow_euler"}]}, "negative_prompt", ""),
        ({"model": "sdxl-base", "schedulers": [{"name": "euler"}]}, "model", "served models: tiny, tiny-flux"),
    ],
)
def test_incompatible_specs_are_422_naming_scheduler_model_and_reason(
    client: TestClient, settings: Settings, body: dict, field: str, words: str
) -> None:
    response = client.post("/v1/comparisons", json={**SPEC, **body})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["errors"][0]["field"].endswith(field) and words in problem["detail"]
    model = body.get("model", "tiny")
    if field.startswith("schedulers"):
        assert model in problem["detail"] and body["schedulers"][0]["name"] in problem["detail"]
    assert ComparisonQueue(Redis.from_url(settings.redis_url), settings.key_prefix, 60, "tiny").depth() == 0


def test_models_lists_served_models_with_family_size_and_schedulers(
    client: TestClient, workers: WorkerRegistry
) -> None:
    _register(workers, "tiny-sdxl", "StableDiffusionXLPipeline", SDXL_SCHEDULER_CONFIG, live=False)
    body = client.get("/v1/models").json()
    assert body["default_model"] == "tiny"
    by_name = {model["name"]: model for model in body["data"]}
    assert set(by_name) == {"tiny", "tiny-flux"}  # tiny-sdxl registered, but no live worker serves it now
    assert by_name["tiny-flux"]["family"] == "flux" and by_name["tiny-flux"]["default_size"] == 64
    assert "flow_euler" in by_name["tiny-flux"]["schedulers"] and "flow_heun" not in by_name["tiny-flux"]["schedulers"]
    assert by_name["tiny"]["default"] and by_name["tiny"]["workers"] == 1


def test_schedulers_filter_by_model_with_reasons(client: TestClient) -> None:
    flux = client.get("/v1/schedulers", params={"model": "tiny-flux"}).json()
    assert flux["model"]["family"] == "flux"
    heun = next(entry for entry in flux["data"] if entry["id"] == "flow_heun")
    assert not heun["available"] and "mu" in heun["unavailable_reason"]
    unknown = client.get("/v1/schedulers", params={"model": "nope"})
    assert unknown.status_code == 422 and "tiny-flux" in unknown.json()["detail"]
    everything = client.get("/v1/schedulers").json()
    assert everything["model"] is None and any(entry["id"] == "flow_euler" for entry in everything["data"])


def test_the_default_model_is_accepted_before_its_first_worker_registers(
    redis_url: str, key_prefix: str, tmp_path: Path
) -> None:
    settings = Settings(redis_url=redis_url, key_prefix=key_prefix, storage_url=tmp_path.as_uri(), model="demo")
    with TestClient(create_app(settings)) as client:
        accepted = client.post("/v1/comparisons", json={**SPEC, "schedulers": [{"name": "euler"}]})
        refused = client.post("/v1/comparisons", json={**SPEC, "model": "tiny", "schedulers": [{"name": "euler"}]})
    assert accepted.status_code == 202 and accepted.json()["spec"]["model"] == "demo"
    assert refused.status_code == 422 and "served models: none" in refused.json()["detail"]


def test_a_dry_run_is_priced_by_the_workers_of_the_jobs_model_only(client: TestClient, workers: WorkerRegistry) -> None:
    """A Flux worker's throughput says nothing about the tiny SD model's; each job's estimate uses its own model's."""
    for name, serves, rate in (("t1", "tiny", 100.0), ("t2", "tiny", 300.0), ("f1", "tiny-flux", 5.0)):
        worker = WorkerInfo(
            name=name, model={}, schedulers=[], serves=serves, pid=1, host="test", started_at=datetime.now(UTC)
        )
        workers.heartbeat(worker.model_copy(update={"evals_per_s": rate}), ttl_s=60)
    sweep = {**SPEC, "steps": [5, 10]}
    tiny = client.post("/v1/comparisons?dry_run=true", json={**sweep, "schedulers": [{"name": "euler"}]}).json()
    flux_sweep = {**sweep, "model": "tiny-flux", "schedulers": [{"name": "flow_euler"}]}
    flux = client.post("/v1/comparisons?dry_run=true", json=flux_sweep).json()
    assert (tiny["model"], tiny["workers_measured"], tiny["evals_per_s"]) == ("tiny", 2, 200.0)
    assert (flux["model"], flux["workers_measured"], flux["evals_per_s"]) == ("tiny-flux", 1, 5.0)
    for estimate in (tiny, flux):
        cost = estimate["cost"]["unet_evaluations"]
        assert estimate["estimated_seconds"] == pytest.approx(cost / estimate["evals_per_s"], abs=0.01)


def test_a_flow_models_sweep_defaults_to_the_flow_dpmpp_2m_reference(client: TestClient, settings: Settings) -> None:
    """DPM++ 2M cannot run on a flow-matching model; its sweeps are measured against DPM++ 2M on flow sigmas."""
    sweep = {**SPEC, "steps": [5, 10], "schedulers": [{"name": "flow_euler"}], "model": "tiny-flux"}
    estimate = client.post("/v1/comparisons?dry_run=true", json=sweep)
    assert estimate.status_code == 200, estimate.text
    assert estimate.json()["reference"]["scheduler"] == "flow_dpmpp_2m"
    # 5 + 10 steps of flow_euler, and a 100-step reference
    assert estimate.json()["cost"]["unet_evaluations"] == 5 + 10 + 100
    accepted = client.post("/v1/comparisons", json=sweep)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["spec"]["reference"] is None  # the spec says "the default"; the model decides which
    sd = client.post("/v1/comparisons?dry_run=true", json={**sweep, "model": "tiny", "schedulers": [{"name": "euler"}]})
    assert sd.json()["reference"]["scheduler"] == "dpmpp_2m"
