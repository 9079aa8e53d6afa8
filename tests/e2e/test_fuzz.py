"""Schemathesis against a live `schedlab api` from the committed OpenAPI document: no 5xx, no response that
violates the schema. A few hundred cases in CI (SCHEDLAB_FUZZ_EXAMPLES per operation); `make fuzz` runs more."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from tests.e2e.conftest import _stack
from tests.harness import ROOT, Stack

pytestmark = pytest.mark.e2e

API_KEY = "fuzz-key"
EXAMPLES = int(os.environ.get("SCHEDLAB_FUZZ_EXAMPLES", "30"))
schema = schemathesis.openapi.from_path(ROOT / "openapi" / "openapi.json")


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Iterator[Stack]:
    # Production posture: API keys on. A queue cap, so the fuzzer meets 429s too; no worker, so its jobs stay
    # queued, and are deleted afterwards.
    stack = _stack(
        tmp_path_factory,
        model_cache,
        tmp_path_factory.mktemp("fuzz-storage").as_uri(),
        SCHEDLAB_MAX_QUEUE_DEPTH="50",
        SCHEDLAB_API_KEYS=API_KEY,
    )
    try:
        stack.start_api()
        yield stack
    finally:
        stack.close()


@schema.auth()
class ApiKey:
    """Schemathesis applies it to every case but those that test a missing or wrong key."""

    def get(self, case: schemathesis.Case, context: object) -> str:
        return API_KEY

    def set(self, case: schemathesis.Case, data: str, context: object) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case: schemathesis.Case, live_api: Stack) -> None:
    # Schema-valid is not always valid here (scheduler names, caps, capture within steps are checked beyond the
    # schema, with 422s), so positive_data_acceptance is off; /readyz documents its 503 without a worker.
    excluded = [checks.positive_data_acceptance]
    if case.path == "/readyz":
        excluded.append(checks.not_a_server_error)
    case.call_and_validate(base_url=live_api.base_url, excluded_checks=excluded)
