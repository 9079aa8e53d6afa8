"""The cost model dry runs price jobs with: what a job does (`job_work`), the workers' fit, and the estimate."""

from __future__ import annotations

from typing import Any

import pytest

from service.contract import ComparisonSpec, CostModel, Execution, JobWork, fit_cost_model, job_work, utcnow
from service.estimate import estimate
from service.workers import WorkerInfo

BASE: dict[str, Any] = {"prompt": "a red circle", "num_images": 2, "guidance_scale": 7.5, "capture": {"steps": [3]}}


def spec(**fields: Any) -> ComparisonSpec:
    return ComparisonSpec.model_validate({**BASE, **fields})


def work(calls: int, samples: int, images: int) -> JobWork:
    return JobWork(
        execution=Execution.batched,
        ticks=calls,
        tick_batch_sizes={},
        unet_calls=calls,
        unet_samples=samples,
        decoded_images=images,
        max_batch=64,
    )


def test_a_batched_job_shares_ticks_and_a_sequential_one_calls_the_unet_per_run() -> None:
    """euler (3 calls for 3 steps) and heun (5: twice its steps but the first) on 2 images with guidance."""
    schedulers = [{"name": "euler"}, {"name": "heun"}]
    batched = job_work(spec(steps=3, schedulers=schedulers), max_batch=4)
    # Ticks 1-3: both runs, 2 x 2 x 2 = 8 samples, split into two calls of 4; ticks 4-5: heun alone.
    assert batched.tick_batch_sizes == {8: 3, 4: 2}
    assert (batched.ticks, batched.unet_calls, batched.unet_samples) == (5, 3 * 2 + 2, 8 * 3 + 4 * 2)
    assert batched.decoded_images == 2 * 2  # final images; the frame at step 3 reuses them
    sequential = job_work(spec(steps=3, schedulers=schedulers, execution="sequential"), max_batch=4)
    assert sequential.tick_batch_sizes == {4: 3 + 5}
    assert (sequential.unet_calls, sequential.unet_samples) == (8, 32)


def test_the_fit_recovers_known_coefficients() -> None:
    truth = {"call": 0.02, "sample": 0.001, "image": 0.05}
    runs = [work(10, 20, 1), work(10, 160, 8), work(10, 20, 10), work(200, 6000, 400)]
    observations = [
        (w, truth["call"] * w.unet_calls + truth["sample"] * w.unet_samples + truth["image"] * w.decoded_images)
        for w in runs
    ]
    model = fit_cost_model(observations, max_batch=64)
    assert model is not None and model.runs_fitted == 4 and model.max_batch == 64
    fitted = (model.seconds_per_unet_call, model.seconds_per_sample, model.seconds_per_decoded_image)
    assert fitted == pytest.approx(tuple(truth.values()), rel=1e-9)


def test_the_fit_keeps_every_coefficient_non_negative() -> None:
    """Noise can make the unconstrained fit say more samples cost less; a cost is never negative."""
    observations = [(work(10, 20, 1), 1.0), (work(10, 160, 1), 0.9), (work(40, 80, 1), 4.0)]
    model = fit_cost_model(observations, max_batch=64)
    assert model is not None
    assert model.seconds_per_sample == 0.0 and model.seconds_per_unet_call > 0
    assert model.seconds(work(10, 20, 1)) == pytest.approx(1.0, rel=0.15)


def test_no_run_no_fit() -> None:
    assert fit_cost_model([], max_batch=64) is None


def worker(
    name: str, cost_model: CostModel | None, evals_per_s: float | None = 100.0, serves: str = "tiny"
) -> WorkerInfo:
    return WorkerInfo(
        name=name,
        model={},
        schedulers=[],
        serves=serves,
        pid=1,
        host="h",
        started_at=utcnow(),
        evals_per_s=evals_per_s,
        cost_model=cost_model,
    )


FIXED_COST = CostModel(
    seconds_per_unet_call=0.05, seconds_per_sample=0.002, seconds_per_decoded_image=0.01, max_batch=64, runs_fitted=3
)
SWEEP: dict[str, Any] = {
    "steps": [5, 10, 20, 40],
    "guidance_scale": [4, 7.5],
    "schedulers": [{"name": "dpmpp_2m"}, {"name": "euler"}, {"name": "euler_a"}],
    "capture": {"every": 5},
}


def test_a_batched_job_is_estimated_below_the_same_job_sequential_when_calls_have_a_fixed_cost() -> None:
    batched = estimate(spec(**SWEEP), [worker("w", FIXED_COST)], "tiny")
    sequential = estimate(spec(**SWEEP, execution="sequential"), [worker("w", FIXED_COST)], "tiny")
    assert batched.estimated_by == sequential.estimated_by == "cost_model"
    assert batched.cost.unet_evaluations == sequential.cost.unet_evaluations  # the same evaluations...
    assert batched.work is not None and sequential.work is not None
    assert batched.work.unet_calls < sequential.work.unet_calls  # ...in far fewer calls
    assert batched.estimated_seconds is not None and sequential.estimated_seconds is not None
    assert batched.estimated_seconds < 0.5 * sequential.estimated_seconds
    assert batched.estimated_seconds == pytest.approx(FIXED_COST.seconds(batched.work), abs=0.01)


def test_the_estimate_is_the_median_workers_and_falls_back_to_throughput_without_a_cost_model() -> None:
    slow, fast = (FIXED_COST.model_copy(update={"seconds_per_unet_call": rate}) for rate in (0.5, 0.01))
    workers = [worker("a", FIXED_COST), worker("b", slow), worker("c", fast), worker("d", None)]
    answer = estimate(spec(**SWEEP), workers, "tiny")
    assert answer.cost_model == FIXED_COST and answer.work is not None
    assert answer.estimated_seconds == pytest.approx(FIXED_COST.seconds(answer.work), abs=0.01)
    older = estimate(spec(**SWEEP), [worker("d", None, evals_per_s=200.0)], "tiny")
    assert older.estimated_by == "throughput" and older.cost_model is None
    assert older.estimated_seconds == pytest.approx(older.cost.unet_evaluations / 200.0, abs=0.01)
    assert estimate(spec(**SWEEP), [worker("e", None, evals_per_s=None)], "tiny").estimated_seconds is None


def test_the_estimate_is_priced_by_the_workers_serving_the_specs_model_only() -> None:
    slow = FIXED_COST.model_copy(update={"seconds_per_unet_call": 5.0})
    others = [worker(f"sdxl-{i}", slow, evals_per_s=1.0, serves="sdxl") for i in range(3)]
    answer = estimate(spec(**SWEEP), [worker("tiny-1", FIXED_COST), *others], "tiny")
    assert answer.cost_model == FIXED_COST and answer.workers_measured == 1 and answer.evals_per_s == 100.0
    assert estimate(spec(**SWEEP), others, "tiny").estimated_seconds is None  # no worker serves it: no price
