"""Sweeps: every cell is a single-value job, the reference and its distances, the answer, grids under a pixel cap."""

from __future__ import annotations

import io
import json
import math
import statistics

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
from tests.support import MemorySink, run_spec
from worker import frames, sweep
from worker.engine import ComparisonEngine
from worker.registry import entry_by_id

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


@pytest.fixture(scope="module")
def swept(engine: ComparisonEngine) -> tuple:
    return run_spec(
        engine,
        prompt=PROMPT,
        schedulers=[{"name": "euler"}, {"name": "dpmpp_2m"}],
        steps=[2, 4],
        guidance_scale=[1.0, 6.0],
        seed=[3, 9],
        num_images=3,  # three: a median differs from a mean
        capture={"every": 2},
        reference={"steps": 6},
    )


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
    reference = outcome.manifest["reference"]
    assert (reference["scheduler"], reference["steps"], reference["default"]) == ("dpmpp_2m", 6, False)
    assert sorted((run["guidance_scale"], run["seed"]) for run in reference["runs"]) == [
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
    assert outcome.manifest["execution"]["mode"] == "batched"  # main's default path, not the sweep's
    assert outcome.sweep is None and outcome.manifest["sweep"] is None and outcome.manifest["reference"] is None


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
    outcome = limited.run(spec, MemorySink(), StorageLayout(""))
    assert outcome.sweep is not None
    grids = outcome.sweep.grids
    assert [(g.page, g.pages) for g in grids] == [(0, 3), (1, 3), (2, 3)]
    assert grids[0].key == "sweep/grid-cfg-7.5_seed-0-page-1-of-3.png"


@pytest.mark.parametrize("stop_at_check", [2, 9])
def test_cancel_during_a_sweep_ends_it_canceled_with_what_was_stored(
    engine: ComparisonEngine, stop_at_check: int
) -> None:
    checks = 0

    def stop() -> bool:
        nonlocal checks
        checks += 1
        return checks >= stop_at_check

    spec = ComparisonSpec(
        prompt=PROMPT,
        schedulers=[{"name": "euler"}],
        steps=[2, 4],
        num_images=1,
        capture={"every": 2},
        reference={"steps": 4},
    )
    sink = MemorySink()
    outcome = engine.run(spec, sink, StorageLayout(""), should_stop=stop)
    assert outcome.status == "canceled"
    assert outcome.sweep is None and json.loads(sink.files["manifest.json"])["status"] == "canceled"
    if stop_at_check == 2:  # inside the reference run: no cell ran
        assert outcome.results == []
    else:  # inside the second cell: the first is complete, the second canceled
        assert [r.status for r in outcome.results] == ["succeeded", "canceled"]


def test_sweeps_run_cell_by_cell_and_say_so_when_batched_was_asked(engine: ComparisonEngine) -> None:
    outcome, _ = run_spec(
        engine, schedulers=[{"name": "euler"}], steps=[1, 2], num_images=1, capture={"every": 1}, reference={"steps": 2}
    )
    execution = outcome.manifest["execution"]
    assert execution["mode"] == "sequential"
    assert execution["requested"] == "batched" and execution["why_sequential"] == "sweeps run cell by cell"
    assert outcome.manifest["charts"] == {} and outcome.sweep is not None
