"""The quality sweep covers the whole registry, varies its prompts, and its README section judges the data."""

from __future__ import annotations

import pytest

from benchmarks import quality_sweep
from benchmarks.readme_sections import quality_sweep as section
from worker import registry
from worker.demo_model import shapes


def test_sweep_runs_every_available_registry_entry() -> None:
    expected = [entry.id for entry in registry.ENTRIES if entry.unavailable_reason is None]
    swept = [entry.id for entry in quality_sweep.available_entries()]
    assert {"lms", "lms_karras", "pndm", "ddim_class_defaults", "dpmpp_2m_sde"} <= set(swept)
    # The demo model's own catalog: an epsilon model runs neither the zero-terminal-SNR presets nor flow matching.
    left_out = [name for name in expected if name not in swept]
    assert {"ddim_zero_snr", "euler_zero_snr", "flow_euler"} <= set(left_out)
    assert all(name.endswith("_zero_snr") or name.startswith("flow_") for name in left_out), left_out
    with pytest.raises(SystemExit, match="edm_euler"):
        quality_sweep.available_entries(ids=["euler", "edm_euler"])


def test_any_prefix_of_the_jobs_has_varied_prompts() -> None:
    jobs = quality_sweep.jobs(64)
    assert [seed for _, seed in jobs] == list(range(64))
    assert len({prompt for prompt, _ in jobs}) == len(shapes.all_combinations())
    first = [prompt.split() for prompt, _ in jobs[:16]]
    assert {words[2] for words in first} == set(shapes.SHAPES)
    assert {words[1] for words in first} == set(shapes.SHAPE_COLOURS)
    assert {words[-2] for words in first} == set(shapes.BACKGROUNDS)


def test_a_tiny_sweep_runs_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--schedulers", "euler,pndm", "--steps", "3,30", "--guidance", "7.5"]
    assert quality_sweep.main([*argv, "--images", "2", "--images-other", "1", "--ref-steps", "3", "--no-write"]) == 0
    out = capsys.readouterr().out
    assert "reference DPM++ 2M x 3" in out and "nothing written" in out
    # PNDM's repeated first timestep: one UNet call more than its steps.
    assert any(line.split()[:3] == ["pndm", "3", "4"] for line in out.splitlines())


def _row(name: str, steps: int, colour: float, shape: float, rmse: float, guidance: float = 7.5) -> dict:
    return {
        "scheduler": name,
        "name": name.upper(),
        "guidance": guidance,
        "steps": steps,
        "nfe": steps,
        "colour_match": colour,
        "colour_chance": 0.17,
        "shape_match": shape,
        "shape_chance": 0.33,
        "rmse_px_median": rmse,
    }


def test_converged_at_is_the_first_step_count_from_which_it_stays_close() -> None:
    rows = [_row("a", 10, 1, 1, 0.2), _row("a", 20, 1, 1, 0.01), _row("a", 30, 1, 1, 0.2), _row("a", 50, 1, 1, 0.02)]
    assert section.converged_at(rows, 0.05) == 50
    assert section.converged_at(rows[:2], 0.05) == 20
    assert section.converged_at(rows[:1], 0.05) is None


def test_section_reports_targets_from_the_data() -> None:
    rows = []
    for name, colour, rmse10 in (("dpmpp_2m", 1.0, 0.04), ("unipc", 1.0, 0.1), ("deis", 0.95, 0.2), ("lms", 0.5, 0.3)):
        rows += [_row(name, steps, colour, 0.9, rmse10 / steps * 10) for steps in (10, 20, 30, 50)]
    rows += [_row("ddim_class_defaults", s, 0.2, 0.2, 0.4) for s in (10, 20, 30, 50)]
    rows += [_row(name, 30, 1.0, 0.9, 0.01, guidance=4.0) for name in ("dpmpp_2m", "lms")]
    data = {
        "environment": {"command": "quality_sweep.py", "versions": {"torch": "t", "diffusers": "d"}},
        "model": {"path": "models/shapes-sd", "id": "m", "version": "2"},
        "steps": [10, 20, 30, 50],
        "main_steps": 30,
        "guidance": [7.5, 4.0],
        "images_main": 64,
        "images_other": 16,
        "prompts": 48,
        "reference": {"steps": 100},
        "converged_rmse": 0.05,
        "rows": rows,
    }
    text = section.render(data)
    # ddim_class_defaults is exempt; LMS misses the target and is named with its figures.
    assert "**not met** by 1 of 4: LMS (50 / 90)" in text
    assert "DPM++ 2M, UniPC and DEIS ≥ 90 % colour: **met**" in text
    assert "DPMPP_2M < UNIPC < DEIS < LMS < DDIM_CLASS_DEFAULTS" in text
    assert "| LMS | 50 / 50 / 50 / 50 | 90 | 100 / 90 | 30 |" in text
