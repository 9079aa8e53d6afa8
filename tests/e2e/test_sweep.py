"""A sweep over real HTTP with the generated client: dry run priced by the workers, then the job and its answer."""

from __future__ import annotations

import json

import pytest
from schedlab_client import Client
from schedlab_client.api.comparisons import create_comparison, list_comparisons
from schedlab_client.models import (
    ComparisonEstimate,
    ComparisonEstimateEstimatedByType0,
    ComparisonSpec,
    CostModel,
    Execution,
    JobStatus,
    JobWork,
)

from tests.e2e.test_lifecycle import download, submit, wait_terminal
from tests.harness import Stack, wait_until

pytestmark = pytest.mark.e2e

SWEEP = {
    "schedulers": [{"name": "euler"}, {"name": "dpmpp_2m"}],
    "steps": [2, 4],
    "guidance_scale": [1, 5],
    "num_images": 1,
    "capture": {"every": 2},
    "reference": {"steps": 4},
}


def dry_run(client: Client) -> ComparisonEstimate:
    body = ComparisonSpec.from_dict({"prompt": "a red circle", **SWEEP})
    response = create_comparison.sync_detailed(client=client, body=body, dry_run=True)
    assert response.status_code == 200
    assert isinstance(response.parsed, ComparisonEstimate)
    return response.parsed


def test_dry_run_prices_the_sweep_with_the_workers_measured_throughput_and_queues_nothing(file_stack: Stack) -> None:
    client = Client(base_url=file_stack.base_url)
    before = list_comparisons.sync(client=client)
    estimate = dry_run(client)
    assert estimate.queued is False
    assert len(estimate.cells) == 4 and estimate.cost.runs == 4 * 2 + 2
    assert estimate.cost.unet_evaluations == 2 * (2 + 4) * 2 + 2 * 4
    after = list_comparisons.sync(client=client)
    assert before is not None and after is not None and after.count == before.count

    # These workers skip warm-up: a job gives the worker that ran it a measured throughput and a cost model fitted to
    # it, its heartbeat shares them, and the cost model prices the sweep's work (batched: its ticks' UNet calls).
    job = wait_terminal(
        client, submit(client, schedulers=[{"name": "euler"}], steps=4, num_images=1, capture={"every": 2}).id
    )
    assert job.status is JobStatus.SUCCEEDED
    estimate = wait_until(lambda: (e := dry_run(client)).workers_measured and e, 10, "a measured throughput")
    assert estimate.evals_per_s and estimate.evals_per_s > 0
    assert estimate.estimated_by is ComparisonEstimateEstimatedByType0.COST_MODEL
    work, model = estimate.work, estimate.cost_model
    assert isinstance(work, JobWork) and isinstance(model, CostModel) and model.runs_fitted == 1
    assert work.execution is Execution.BATCHED and work.ticks == 4  # the 4-step cells and reference, side by side
    seconds = (
        model.seconds_per_unet_call * work.unet_calls
        + model.seconds_per_sample * work.unet_samples
        + model.seconds_per_decoded_image * work.decoded_images
    )
    assert estimate.estimated_seconds == pytest.approx(seconds, abs=0.01)


def test_a_sweep_runs_every_cell_and_serves_its_grids_curves_and_ranking(file_stack: Stack) -> None:
    client = Client(base_url=file_stack.base_url)
    job = wait_terminal(client, submit(client, **SWEEP).id)
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert len(job.results) == 8
    cells = {(r.scheduler, r.cell.steps, r.cell.guidance_scale) for r in job.results if r.cell}
    assert len(cells) == 8
    for result in job.results:
        assert result.reference_distance is not None
        assert result.final_images and result.frames
        assert download(client, result.final_images[0])[:4] == b"\x89PNG"
    progress = {p.scheduler: (p.steps_done, p.steps_total) for p in job.progress}
    assert progress == {"euler": (12, 12), "dpmpp_2m": (12, 12), "reference: dpmpp_2m": (8, 8)}
    sweep = job.sweep
    assert sweep is not None
    assert len(sweep.curves) == 4 and len(sweep.grids) == 2
    assert sweep.plot_url and download(client, sweep.plot_url)[:4] == b"\x89PNG"
    assert all(download(client, grid.url)[:4] == b"\x89PNG" for grid in sweep.grids)
    answer = json.loads(download(client, sweep.answer_url))
    assert [entry["budget"] for entry in answer["ranking"]] == [2, 4, 2, 4]
    manifest = json.loads(download(client, job.manifest_url or ""))
    assert manifest["reference"]["steps"] == 4 and len(manifest["reference"]["runs"]) == 2
