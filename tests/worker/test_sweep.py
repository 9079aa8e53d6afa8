"""Sweeps: every cell is a single-value job, the reference and its distances, the answer, grids under a pixel cap."""

from __future__ import annotations

import io
import json
import math
import statistics
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from service.contract import (
    CellLabel,
    ComparisonSpec,
    Limits,
    ReferenceDistance,
    SchedulerResult,
    SchedulerTimings,
    StorageLayout,
)
from service.storage import MemoryStorage
from tests.support import run_spec
from worker import frames, sweep
from worker.engine import ComparisonEngine, ComparisonOutcome
from worker.registry import entry_by_id
from worker.scheduler_run import RunListener

PROMPT = "a red circle on a black background"


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def plain_diffusers(engine: ComparisonEngine, name: str, steps: int, guidance: float, seed: int, images: int) -> list:
    """The same run through plain diffusers, as the notebook would: scheduler from the model's config."""
    pipe = engine.model.pipe
    entry = entry_by_id(name)
    pipe.scheduler = entry.scheduler_class.from_config(engine.model.scheduler_config, **entry.preset)
    return pipe(
        PROMPT,
        num_inference_steps=steps,
        guidance_scale=guidance,
        num_images_per_prompt=images,
        generator=[torch.Generator().manual_seed(seed + i) for i in range(images)],
        output_type="pil",
    ).images


SWEEP = {
    "prompt": PROMPT,
    "schedulers": [{"name": "euler"}, {"name": "dpmpp_2m"}],
    "steps": [2, 4],
    "guidance_scale": [1.0, 6.0],
    "seed": [3, 9],
    "num_images": 3,  # three: a median differs from a mean
    "capture": {"every": 2},
    "reference": {"steps": 6},
}


@pytest.fixture(scope="module")
def swept(engine: ComparisonEngine) -> tuple:
    """Sequential: each run through the pipeline's own call, so its cells equal plain diffusers bit for bit."""
    return run_spec(engine, **SWEEP, execution="sequential")


@pytest.fixture(scope="module")
def swept_batched(engine: ComparisonEngine) -> tuple:
    return run_spec(engine, **SWEEP, execution="batched")


def test_every_cell_runs_every_scheduler_under_a_folder_that_says_its_values(swept: tuple) -> None:
    outcome, sink = swept
    assert outcome.status == "succeeded"
    assert len(outcome.results) == 8 * 2
    seen = set()
    for result in outcome.results:
        cell = result.cell
        assert cell is not None
        seen.add((result.id, cell.steps, cell.guidance_scale, cell.seed))
        folder = f"steps-{cell.steps}_cfg-{cell.guidance_scale:g}_seed-{cell.seed}/"
        assert cell.folder == folder
        assert result.folder.startswith(folder)
        assert result.seeds == [cell.seed, cell.seed + 1, cell.seed + 2]
        assert sorted({frame.step for frame in result.frames}) == sorted({2, cell.steps})
        assert all(key in sink.files for key in [*result.final_images, *(f.key for f in result.frames)])
    assert len(seen) == 16


@pytest.mark.parametrize(("name", "steps", "guidance", "seed"), [("euler", 4, 6.0, 9), ("dpmpp_2m", 2, 1.0, 3)])
def test_a_cell_equals_plain_diffusers_with_its_values(
    engine: ComparisonEngine, swept: tuple, name: str, steps: int, guidance: float, seed: int
) -> None:
    outcome, sink = swept
    (result,) = [
        r
        for r in outcome.results
        if r.id == name and r.cell and (r.cell.steps, r.cell.guidance_scale, r.cell.seed) == (steps, guidance, seed)
    ]
    plain = plain_diffusers(engine, name, steps, guidance, seed, images=3)
    for key, image in zip(result.final_images, plain, strict=True):
        assert np.array_equal(pixels(sink.files[key]), np.asarray(image)), key


def test_reference_is_dpmsolver_run_once_per_guidance_and_seed_and_distances_are_measured_to_it(
    engine: ComparisonEngine, swept: tuple
) -> None:
    outcome, sink = swept
    reference = outcome.manifest.reference
    assert reference is not None
    assert (reference.scheduler, reference.steps, reference.default) == ("dpmpp_2m", 6, False)
    assert sorted((run.guidance_scale, run.seed) for run in reference.runs) == [
        (1.0, 3),
        (1.0, 9),
        (6.0, 3),
        (6.0, 9),
    ]
    plain = plain_diffusers(engine, "dpmpp_2m", 6, 6.0, 9, images=3)
    keys = StorageLayout("")
    for index, image in enumerate(plain):
        assert np.array_equal(pixels(sink.files[keys.reference_image(6.0, 9, index)]), np.asarray(image))
    for result in outcome.results:
        assert result.cell and result.reference_distance
        errors = []
        for index, key in enumerate(result.final_images):
            ours = pixels(sink.files[key]) / 255.0
            ref = pixels(sink.files[keys.reference_image(result.cell.guidance_scale, result.cell.seed, index)]) / 255.0
            errors.append(math.sqrt(((ours - ref) ** 2).mean()))
        distance = result.reference_distance
        assert distance.images == pytest.approx(errors, abs=1e-6)
        assert distance.image == pytest.approx(statistics.median(errors), abs=1e-6)
        assert distance.image_mean == pytest.approx(statistics.fmean(errors), abs=1e-6)
        assert distance.latent > 0


def test_a_sweep_defaults_to_a_100_step_dpmsolver_reference_and_says_so() -> None:
    spec = ComparisonSpec(prompt="x", schedulers=[{"name": "euler"}], steps=[5, 10])
    reference = spec.resolved_reference()
    assert reference is not None and (reference.scheduler, reference.steps) == ("dpmpp_2m", 100)
    assert ComparisonSpec(prompt="x", schedulers=[{"name": "euler"}], steps=5).resolved_reference() is None


def test_a_single_value_job_keeps_its_layout_and_has_no_sweep(engine: ComparisonEngine) -> None:
    outcome, sink = run_spec(engine, schedulers=[{"name": "euler"}], steps=3, capture={"every": 3}, num_images=1)
    (result,) = outcome.results
    assert result.folder == "01-euler" and result.cell is None and result.reference_distance is None
    assert set(sink.files) == {
        "01-euler/final/image-0.png",
        "01-euler/frames/step-0003/image-0.png",
        "01-euler/grid.png",
        "charts/convergence.png",
        "charts/similarity.png",
        "contact-sheet.png",
        "manifest.json",
    }
    assert outcome.manifest.execution["mode"] == "batched"  # main's default path, not the sweep's
    assert outcome.sweep is None and outcome.manifest.sweep is None and outcome.manifest.reference is None


def test_cells_share_one_prompt_encoding(engine: ComparisonEngine) -> None:
    calls = []
    handle = engine.model.pipe.text_encoder.register_forward_hook(lambda *args: calls.append(1))
    try:
        run_spec(
            engine,
            schedulers=[{"name": "euler"}, {"name": "ddim"}],
            steps=[1, 2],
            guidance_scale=[1.0, 7.5],
            num_images=1,
            capture={"every": 1},
            reference={"steps": 2},
        )
    finally:
        handle.remove()
    assert len(calls) == 2  # the prompt and the negative prompt, once for 4 cells x 2 schedulers and the references


def test_the_answer_is_stored_with_curves_ranking_grids_and_plot(swept: tuple) -> None:
    outcome, sink = swept
    answer = outcome.sweep
    assert answer is not None
    assert json.loads(sink.files[answer.answer]) == json.loads(answer.model_dump_json())
    assert answer.plot in sink.files and Image.open(io.BytesIO(sink.files[answer.plot])).width > 400
    assert {(c.scheduler, c.guidance_scale) for c in answer.curves} == {
        (name, g) for name in ("euler", "dpmpp_2m") for g in (1.0, 6.0)
    }
    for curve in answer.curves:
        assert [p.steps for p in curve.points] == [2, 4]
        for point in curve.points:
            cells = [
                r
                for r in outcome.results
                if r.name == curve.scheduler
                and r.cell
                and (r.cell.guidance_scale, r.cell.steps) == (curve.guidance_scale, point.steps)
            ]
            assert len(cells) == 2  # the two seeds, averaged
            mean = sum(r.reference_distance.image for r in cells if r.reference_distance) / 2
            assert point.image_distance == pytest.approx(mean, abs=1e-6)
            assert point.nfe == cells[0].timings.unet_calls == point.steps
    assert {(g.guidance_scale, g.seed) for g in answer.grids} == {(g, s) for g in (1.0, 6.0) for s in (3, 9)}
    assert all(g.key in sink.files and g.pages == 1 for g in answer.grids)


def _result(index: int, name: str, steps: int, guidance: float, seed: int, image: float, calls: int) -> SchedulerResult:
    return SchedulerResult(
        index=index,
        name=name,
        id=name,
        class_name="X",
        key="k",
        status="succeeded",
        stochastic=False,
        effective_config={},
        seeds=[seed],
        final_images=[],
        frames=[],
        grid=None,
        timings=SchedulerTimings(wall_s=0.1, unet_calls=calls),
        convergence=[],
        emergence_step=None,
        cell=CellLabel(steps=steps, guidance_scale=guidance, seed=seed, folder=""),
        reference_distance=ReferenceDistance(
            latent=image * 2, image=image, image_mean=image, images=[image], latents=[image * 2]
        ),
    )


def test_cheapest_cell_within_tolerance_and_ranking_per_budget() -> None:
    results = [
        # a first-order solver: slow to approach; a second-order one: 2N - 1 calls, close fast; a stochastic one never
        _result(0, "euler", 5, 7.5, 0, 0.20, 5),
        _result(0, "euler", 10, 7.5, 0, 0.08, 10),
        _result(0, "euler", 20, 7.5, 0, 0.04, 20),
        _result(1, "heun", 5, 7.5, 0, 0.06, 9),
        _result(1, "heun", 10, 7.5, 0, 0.01, 19),
        _result(1, "heun", 20, 7.5, 0, 0.005, 39),
        _result(2, "euler_a", 5, 7.5, 0, 0.30, 5),
        _result(2, "euler_a", 10, 7.5, 0, 0.25, 10),
        _result(2, "euler_a", 20, 7.5, 0, 0.24, 20),
    ]
    curves = sweep.error_curves(results, tolerance=0.05)
    cheapest = {c.scheduler: c.cheapest_within_tolerance for c in curves}
    assert cheapest["euler"] is not None and (cheapest["euler"].steps, cheapest["euler"].nfe) == (20, 20)
    assert cheapest["heun"] is not None and (cheapest["heun"].steps, cheapest["heun"].nfe) == (10, 19)
    assert cheapest["euler_a"] is None
    ranking = {entry.budget: [row["scheduler"] for row in entry.ranking] for entry in sweep.budget_ranking(curves)}
    assert ranking[5] == ["euler", "euler_a"]  # heun's first point costs 9
    assert ranking[9] == ["heun", "euler", "euler_a"]
    assert ranking[10] == ["heun", "euler", "euler_a"]
    assert ranking[39][0] == "heun"
    assert sorted(ranking) == [5, 9, 10, 19, 20, 39]


def test_an_xy_grid_over_the_pixel_cap_is_tiled_into_labelled_pages_within_it() -> None:
    cell = Image.new("RGB", (64, 64), "red")
    cells = [[cell] * 6 for _ in range(5)]
    args = ("CFG 7.5, seed 0", "steps", [f"{s} steps" for s in range(6)], "scheduler", [f"s{i}" for i in range(5)])
    (whole,) = frames.make_xy_grid(*args, cells, max_pixels=10_000_000)
    assert whole.size == (170 + 6 * 64, 44 + 5 * 64)
    cap = (170 + 2 * 64) * (44 + 2 * 64)
    pages = frames.make_xy_grid(*args, cells, max_pixels=cap)
    assert len(pages) > 1
    assert all(page.width * page.height <= cap for page in pages)
    covered = sum((page.width - 170) // 64 * ((page.height - 44) // 64) for page in pages)
    assert covered == 6 * 5  # every cell on exactly one page


def test_engine_pages_a_grid_beyond_the_deployment_cap(engine: ComparisonEngine) -> None:
    spec = ComparisonSpec(
        prompt=PROMPT,
        schedulers=[{"name": "euler"}, {"name": "ddim"}, {"name": "dpmpp_2m"}],
        steps=[1, 2],
        num_images=1,
        capture={"every": 2},
        reference={"steps": 2},
    )
    limited = ComparisonEngine(engine.model, Limits(grid_max_pixels=(170 + 2 * 64) * (44 + 64)))
    outcome = limited.run(spec, MemoryStorage(), StorageLayout(""))
    assert outcome.sweep is not None
    grids = outcome.sweep.grids
    assert [(g.page, g.pages) for g in grids] == [(0, 3), (1, 3), (2, 3)]
    assert grids[0].key == "sweep/grid-cfg-7.5_seed-0-page-1-of-3.png"


def _cancel_after(checks_allowed: int) -> Callable[[], bool]:
    checks = 0

    def stop() -> bool:
        nonlocal checks
        checks += 1
        return checks >= checks_allowed

    return stop


CANCELED_SWEEP = {
    "prompt": PROMPT,
    "schedulers": [{"name": "euler"}],
    "steps": [2, 4],
    "num_images": 1,
    "capture": {"every": 2},
    "reference": {"steps": 4},
}


@pytest.mark.parametrize("stop_at_check", [2, 9])
def test_cancel_during_a_sequential_sweep_ends_it_canceled_with_what_was_stored(
    engine: ComparisonEngine, stop_at_check: int
) -> None:
    spec = ComparisonSpec.model_validate({**CANCELED_SWEEP, "execution": "sequential"})
    sink = MemoryStorage()
    outcome = engine.run(spec, sink, StorageLayout(""), should_stop=_cancel_after(stop_at_check))
    assert outcome.status == "canceled"
    assert outcome.sweep is None and json.loads(sink.files["manifest.json"])["status"] == "canceled"
    if stop_at_check == 2:  # inside the reference run: no cell ran
        assert outcome.results == []
    else:  # inside the second cell: the first is complete, the second canceled
        assert [r.status for r in outcome.results] == ["succeeded", "canceled"]


def test_cancel_during_a_batched_sweep_keeps_the_cells_that_ended_and_cancels_the_others(
    engine: ComparisonEngine,
) -> None:
    # One check per tick: the 2-step cell ends at tick 2, the third check cancels the reference and the 4-step cell.
    spec = ComparisonSpec.model_validate({**CANCELED_SWEEP, "execution": "batched"})
    sink = MemoryStorage()
    outcome = engine.run(spec, sink, StorageLayout(""), should_stop=_cancel_after(3))
    assert outcome.status == "canceled"
    assert outcome.sweep is None and json.loads(sink.files["manifest.json"])["status"] == "canceled"
    short, long = outcome.results
    assert short.cell is not None and (short.cell.steps, short.status) == (2, "succeeded")
    assert short.reference_distance is None  # its reference never finished
    assert all(key in sink.files for key in short.final_images)
    assert long.cell is not None and (long.cell.steps, long.status) == (4, "canceled")
    assert outcome.manifest.reference is not None and outcome.manifest.reference.runs == []


def test_a_sequential_sweep_says_so(engine: ComparisonEngine) -> None:
    outcome, _ = run_spec(
        engine,
        schedulers=[{"name": "euler"}],
        steps=[1, 2],
        num_images=1,
        capture={"every": 1},
        reference={"steps": 2},
        execution="sequential",
    )
    assert outcome.manifest.execution["mode"] == "sequential"
    assert outcome.manifest.charts == {} and outcome.sweep is not None


# ---------------------------------------------------------------------------------------------------------------
# Batched sweeps: every cell x scheduler and the references advance in the same UNet batches


def _by_run(outcome: ComparisonOutcome) -> dict[tuple, tuple[SchedulerResult, torch.Tensor]]:
    succeeded = [r for r in outcome.results if r.status == "succeeded"]
    assert len(succeeded) == len(outcome.final_latents)
    return {
        (r.id, r.cell.steps, r.cell.guidance_scale, r.cell.seed): (r, latents)
        for r, latents in zip(succeeded, outcome.final_latents, strict=True)
        if r.cell is not None
    }


def test_a_batched_sweep_equals_the_sequential_sweep_cell_by_cell(swept: tuple, swept_batched: tuple) -> None:
    (sequential, sequential_files), (batched, batched_files) = swept, swept_batched
    assert batched.status == "succeeded" and batched.manifest.execution["mode"] == "batched"
    ours, theirs = _by_run(batched), _by_run(sequential)
    assert len(ours) == 16 and ours.keys() == theirs.keys()
    for run, (result_b, latents_b) in ours.items():
        result_s, latents_s = theirs[run]
        # The bound of tests/worker/test_lockstep.py: 1e-4, relative to the tiny model's large latents.
        scale = max(1.0, float(latents_s.abs().max()))
        assert float((latents_b - latents_s).abs().max()) <= 1e-4 * scale, run
        assert result_b.folder == result_s.folder and result_b.seeds == result_s.seeds
        assert result_b.timings.unet_calls == result_s.timings.unet_calls
        assert [(f.step, f.image_index, f.key) for f in result_b.frames] == [
            (f.step, f.image_index, f.key) for f in result_s.frames
        ]
        for key in result_b.final_images:
            difference = np.abs(pixels(batched_files.files[key]).astype(int) - pixels(sequential_files.files[key]))
            assert (difference <= 1).mean() >= 0.999, key
        assert result_b.reference_distance is not None and result_s.reference_distance is not None
        assert result_b.reference_distance.latent == pytest.approx(result_s.reference_distance.latent, abs=1e-3)
    assert [r.folder for r in batched.results] == [r.folder for r in sequential.results]  # listed in plan order
    assert batched.sweep is not None and sequential.sweep is not None
    assert [g.key for g in batched.sweep.grids] == [g.key for g in sequential.sweep.grids]


def test_a_batched_sweep_shares_unet_batches_across_cells_and_records_how(swept_batched: tuple) -> None:
    outcome, _ = swept_batched
    execution = outcome.manifest.execution
    # All 16 cell runs and the 4 references start together; the 6-step references run longest.
    assert execution["ticks"] == 6
    per_tick = {int(cells): ticks for cells, ticks in execution["cells_per_tick"].items()}
    assert per_tick == {8: 2, 4: 2, 0: 2}  # all 8 cells, then the 4-step ones, then only the references
    assert execution["ticks_with_reference_runs"] == 6
    # Tick 1: 3 images x (8 unguided + 8 guided x 2 + 2 unguided refs + 2 guided refs x 2) samples.
    assert max(int(size) for size in execution["tick_batch_sizes"]) == 3 * (8 + 16 + 2 + 4)


def test_a_batched_sweep_counts_each_schedulers_progress_over_its_interleaved_cells(engine: ComparisonEngine) -> None:
    class Progress(RunListener):
        def __init__(self) -> None:
            self.steps: dict[str, list[int]] = {}

        def on_progress(
            self, scheduler_index: int, scheduler: str, steps_done: int, steps_total: int, **_: Any
        ) -> None:
            self.steps.setdefault(scheduler, []).append(steps_done)
            assert steps_done <= steps_total

    listener = Progress()
    spec = ComparisonSpec.model_validate({**CANCELED_SWEEP, "schedulers": [{"name": "euler"}, {"name": "ddim"}]})
    engine.run(spec, MemoryStorage(), StorageLayout(""), listener=listener)
    assert listener.steps == {
        "euler": list(range(1, 7)),
        "ddim": list(range(1, 7)),
        "reference: dpmpp_2m": list(range(1, 5)),
    }
