"""Two models in one deployment over real HTTP: a tiny SD 1.x worker and a tiny-flux worker, each on its own
queue; jobs name their model, incompatible ones are refused at submit, compatible ones run on the right worker."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from schedlab_client import Client
from schedlab_client.api.comparisons import get_comparison_file

from tests.conftest import TEST_REDIS_URL
from tests.e2e.stack import base_env
from tests.e2e.test_lifecycle import download, wait_terminal
from tests.harness import Stack, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def two_model_stack(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Iterator[Stack]:
    from worker.tiny_families import ensure_tiny_family

    ensure_tiny_family("tiny-flux", model_cache)  # built once here; the worker only loads it
    prefix = f"schedlab-test-{uuid.uuid4().hex[:8]}"
    storage = tmp_path_factory.mktemp("storage")
    stack = Stack(
        env=base_env(TEST_REDIS_URL, prefix, storage.as_uri(), model_cache), workdir=tmp_path_factory.mktemp(prefix)
    )
    try:
        stack.start_api()  # its SCHEDLAB_MODEL (tiny) is the default model
        stack.start_worker("sd")
        stack.start_worker("flux", extra_env={"SCHEDLAB_MODEL": "tiny-flux"})
        yield stack
    finally:
        stack.close()


def test_jobs_run_on_their_models_workers_and_incompatible_ones_are_refused(two_model_stack: Stack) -> None:
    base = two_model_stack.base_url
    models = {model["name"]: model for model in httpx.get(f"{base}/v1/models").json()["data"]}
    assert set(models) == {"tiny", "tiny-flux"} and models["tiny-flux"]["family"] == "flux"

    client = Client(base_url=base)
    # Plain HTTP for the submits: the installed generated client may predate the `model` field.
    spec = {"prompt": "a red circle on a black background", "num_images": 2, "steps": 5}
    flux_schedulers = [{"name": "flow_euler"}, {"name": "flow_dpmpp_2m"}]
    flux = httpx.post(f"{base}/v1/comparisons", json={**spec, "model": "tiny-flux", "schedulers": flux_schedulers})
    sd = httpx.post(
        f"{base}/v1/comparisons", json={**spec, "schedulers": [{"name": "euler"}, {"name": "DPM++ 2M Karras"}]}
    )
    assert flux.status_code == sd.status_code == 202, (flux.text, sd.text)
    for job, model, family in ((flux.json(), "tiny-flux", "flux"), (sd.json(), "tiny", "sd")):
        done = wait_terminal(client, job["id"])
        assert done.status.value == "succeeded", done.error
        manifest = json.loads(download(client, done.manifest_url))
        assert manifest["model"]["family"] == family and manifest["spec"]["model"] == model
        assert all(result.grid_url and result.frames for result in done.results)
        assert get_comparison_file.sync_detailed(job["id"], "contact-sheet.png", client=client).status_code == 200

    def jobs_done_per_model() -> dict[str, int]:
        return {w["serves"]: w["jobs_done"] for w in httpx.get(f"{base}/readyz").json()["workers"]}

    # Workers report their job count with their next heartbeat.
    wait_until(lambda: jobs_done_per_model() == {"tiny": 1, "tiny-flux": 1}, 60, "each worker to report its job")

    for body, words in (
        ({"model": "tiny-flux", "schedulers": [{"name": "flow_heun"}]}, "sigmas and mu"),
        ({"model": "tiny-flux", "schedulers": [{"name": "euler"}]}, "not a flow-matching scheduler"),
        ({"schedulers": [{"name": "ddim", "config": {"use_karras_sigmas": True}}]}, "use_karras_sigmas"),
        ({"model": "tiny-sdxl", "schedulers": [{"name": "euler"}]}, "served models: tiny, tiny-flux"),
    ):
        response = httpx.post(f"{base}/v1/comparisons", json={"prompt": "x", "steps": 5, **body})
        assert response.status_code == 422 and words in response.json()["detail"], response.text
