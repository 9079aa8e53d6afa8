"""Bad input: each a clear error naming the field and the limit, before any model work."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.contract import ComparisonSpec, Limits, check_spec, sweep_cost
from service.errors import SpecError

BASE = {"prompt": "a red circle", "schedulers": [{"name": "euler"}]}


def spec(**fields: object) -> ComparisonSpec:
    return ComparisonSpec.model_validate({**BASE, **fields})


@pytest.mark.parametrize(
    ("fields", "limits", "field", "words"),
    [
        ({"schedulers": [{"name": "eulr"}]}, Limits(), "schedulers[0].name", "valid names: ddim"),
        ({"schedulers": [{"name": "edm_euler"}]}, Limits(), "schedulers[0].name", "unavailable"),
        (
            {"schedulers": [{"name": "euler", "config": {"bogus": 1}}]},
            Limits(),
            "schedulers[0].config.bogus",
            "allowed keys: beta_end",
        ),
        (
            {"schedulers": [{"name": "euler", "config": {"use_karras_sigmas": "yes"}}]},
            Limits(),
            "schedulers[0].config.use_karras_sigmas",
            "must be boolean",
        ),
        (
            {"schedulers": [{"name": "euler", "config": {"beta_start": True}}]},
            Limits(),
            "schedulers[0].config.beta_start",
            "must be number",
        ),
        (
            {"schedulers": [{"name": "euler", "config": {"timestep_spacing": "sideways"}}]},
            Limits(),
            "schedulers[0].config.timestep_spacing",
            "must be one of",
        ),
        ({"steps": 50}, Limits(max_steps=40), "steps", "between 1 and 40"),
        ({"height": 100}, Limits(), "height", "multiple of 8"),
        ({"width": 2048}, Limits(max_resolution=1024), "width", "between 8 and 1024"),
        ({"num_images": 9}, Limits(max_images=8), "num_images", "between 1 and 8"),
        (
            {"capture": {"steps": [3, 40]}, "steps": 30},
            Limits(),
            "capture.steps[1]",
            "between 1 and steps (30)",
        ),
        ({"capture": {"every": 31}, "steps": 30}, Limits(), "capture.every", "between 1 and steps (30)"),
        ({"prompt": "   "}, Limits(), "prompt", "must not be empty"),
        ({"prompt": "x" * 50}, Limits(max_prompt_chars=10), "prompt", "the limit is 10"),
        (
            {"schedulers": [{"name": "heun"}] * 3, "steps": 100, "num_images": 4},
            Limits(max_unet_evals=1000),
            "schedulers",
            "the limit is 1000",
        ),
        ({"schedulers": [{"name": "euler"}] * 3}, Limits(max_schedulers=2), "schedulers", "between 1 and 2"),
    ],
)
def test_bad_input_names_the_field_and_the_limit(fields: dict, limits: Limits, field: str, words: str) -> None:
    with pytest.raises(SpecError) as error:
        check_spec(spec(**fields), limits)
    assert error.value.field == field
    assert words in error.value.message


@pytest.mark.parametrize(
    ("fields", "location"),
    [
        ({"steps": 0}, ("steps",)),
        ({"steps": 1001}, ("steps",)),
        ({"num_images": 17}, ("num_images",)),
        ({"num_images": 0}, ("num_images",)),
        ({"prompt": ""}, ("prompt",)),
        ({"schedulers": []}, ("schedulers",)),
        ({"capture": {"every": 2, "steps": [1]}}, ("capture",)),
        ({"frames": "noise"}, ("frames",)),
        ({"decoder": "magic"}, ("decoder",)),
        ({"execution": "threaded"}, ("execution",)),
        ({"surprise": 1}, ("surprise",)),
    ],
)
def test_out_of_range_fields_fail_validation_naming_the_field(fields: dict, location: tuple) -> None:
    with pytest.raises(ValidationError) as error:
        spec(**fields)
    assert error.value.errors()[0]["loc"][: len(location)] == location


def test_capture_steps_always_include_the_final_step() -> None:
    assert spec(steps=10, capture={"every": 4}).capture_steps() == [4, 8, 10]
    assert spec(steps=10, capture={"steps": [3, 1, 3]}).capture_steps() == [1, 3, 10]


def test_a_good_spec_passes() -> None:
    check_spec(spec(schedulers=[{"name": "DPM++ 2M Karras", "config": {"solver_order": 3}}]), Limits())


@pytest.mark.parametrize(
    ("fields", "location"),
    [
        ({"seed": False}, ("seed",)),
        ({"steps": "30"}, ("steps",)),
        ({"num_images": 2.0}, ("num_images",)),
        ({"guidance_scale": True}, ("guidance_scale",)),
        ({"capture": {"every": True}}, ("capture", "every")),
    ],
)
def test_numbers_are_json_numbers_not_coerced_strings_or_flags(fields: dict, location: tuple) -> None:
    with pytest.raises(ValidationError) as error:
        spec(**fields)
    assert error.value.errors()[0]["loc"][: len(location)] == location


SWEEP = {"schedulers": [{"name": "euler"}, {"name": "dpmpp_2m"}, {"name": "ddim"}], "steps": [5, 10, 20, 40]}


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"steps": []}, "steps", "empty list"),
        ({"guidance_scale": []}, "guidance_scale", "empty list"),
        ({"steps": [5, 10, 5]}, "steps", "repeats 5"),
        ({"guidance_scale": [4, 7.5, 4.0]}, "guidance_scale", "repeats 4"),
        ({"seed": [1, 1]}, "seed", "repeats 1"),
        ({"steps": [5, 0]}, "steps", "item 1 must be between 1 and 1000, got 0"),
        ({"guidance_scale": [4, 51]}, "guidance_scale", "item 1 must be between 0 and 50"),
        ({"seed": [-1]}, "seed", "item 0 must be between 0"),
        ({"steps": [5, True]}, "steps", ""),
        ({"steps": list(range(1, 66))}, "steps", "has 65 values; the limit is 64"),
    ],
)
def test_bad_sweep_axes_fail_validation_naming_the_field(fields: dict, field: str, words: str) -> None:
    with pytest.raises(ValidationError) as error:
        spec(**{**SWEEP, **fields})
    first = error.value.errors()[0]
    assert first["loc"][0] == field
    assert words in first["msg"]


def test_caps_apply_to_the_whole_sweep_naming_the_cells_and_the_cap() -> None:
    sweep = spec(**SWEEP, guidance_scale=[4, 7.5], num_images=1)
    cost = sweep_cost(sweep)
    # 8 cells x (5 + 10 + 20 + 40 per guidance) x 3 schedulers, plus 2 references of 100 DPM-Solver steps
    assert (cost.cells, cost.runs) == (8, 8 * 3 + 2)
    assert cost.unet_evaluations == 3 * 2 * (5 + 10 + 20 + 40) + 2 * 100
    assert cost.reference_evaluations == 200
    check_spec(sweep, Limits(max_unet_evals=cost.unet_evaluations, max_cells=8))
    with pytest.raises(SpecError) as error:
        check_spec(sweep, Limits(max_unet_evals=cost.unet_evaluations - 1))
    assert error.value.field == "steps x guidance_scale x seed"
    assert (
        "8 cells x 3 schedulers" in error.value.message
        and f"limit is {cost.unet_evaluations - 1}" in error.value.message
    )
    with pytest.raises(SpecError) as error:
        check_spec(sweep, Limits(max_cells=7))
    assert "the sweep has 8 cells; the limit is 7" in error.value.message
    with pytest.raises(SpecError) as error:
        check_spec(spec(**{**SWEEP, "steps": [5, 50]}), Limits(max_steps=40))
    assert error.value.field == "steps[1]"
    # The reference runs too: a deployment's step cap binds it (the default reference takes 100 steps).
    check_spec(sweep, Limits(max_steps=100))
    with pytest.raises(SpecError) as error:
        check_spec(sweep, Limits(max_steps=99))
    assert error.value.field == "reference.steps" and "99" in error.value.message


def test_sweep_cells_are_the_product_expanded_in_one_place() -> None:
    sweep = spec(steps=[20, 5], guidance_scale=[7.5, 4], seed=[1, 2])
    cells = sweep.cells()
    assert len(cells) == 8
    assert [(c.steps, c.guidance_scale, c.seed) for c in cells[:4]] == [
        (5, 7.5, 1),
        (20, 7.5, 1),
        (5, 7.5, 2),
        (20, 7.5, 2),
    ]
    assert len({c.folder for c in cells}) == 8
    assert cells[0].folder == "steps-5_cfg-7.5_seed-1/"
    plain = spec(steps=20).cells()
    assert [(c.steps, c.guidance_scale, c.seed, c.folder) for c in plain] == [(20, 7.5, 0, "")]


def test_a_reference_must_be_deterministic_and_named() -> None:
    with pytest.raises(SpecError) as error:
        check_spec(spec(steps=[5, 10], reference={"scheduler": "euler_a"}), Limits())
    assert error.value.field == "reference.scheduler" and "stochastic" in error.value.message
    with pytest.raises(SpecError) as error:
        check_spec(spec(steps=[5, 10], reference={"scheduler": "nope"}), Limits())
    assert error.value.field == "reference.scheduler"


def test_checking_a_spec_returns_its_plan_with_every_name_resolved_once() -> None:
    plan = check_spec(
        spec(steps=[4, 6], schedulers=[{"name": "heun"}, {"name": "dpmpp_2m karras"}], reference={"steps": 8}),
        Limits(),
    )
    assert [(s.index, s.name, s.entry.id) for s in plan.schedulers] == [
        (0, "heun", "heun"),
        (1, "dpmpp_2m karras", "dpmpp_2m_karras"),  # the schedule's preset answers for the combination
    ]
    assert plan.reference is not None and (plan.reference.index, plan.reference.entry.id) == (2, "dpmpp_2m")
    # Grouped by (guidance, seed): the group's reference, then its cells x schedulers, in plan order.
    assert [(run.folder, run.capture_steps, run.unet_calls) for run in plan.runs] == [
        ("reference/cfg-7.5_seed-0", (8,), 8),
        ("steps-4_cfg-7.5_seed-0/01-heun", (1, 2, 3, 4), 2 * 4 - 1),
        ("steps-4_cfg-7.5_seed-0/02-dpmpp_2m_karras", (1, 2, 3, 4), 4),
        ("steps-6_cfg-7.5_seed-0/01-heun", (1, 2, 3, 4, 5, 6), 2 * 6 - 1),
        ("steps-6_cfg-7.5_seed-0/02-dpmpp_2m_karras", (1, 2, 3, 4, 5, 6), 6),
    ]
    assert [run.position for run in plan.runs] == list(range(5))
    assert plan.unet_evaluations == sweep_cost(plan.spec).unet_evaluations == (8 + 7 + 4 + 11 + 6) * 4


def test_a_reference_named_with_a_schedule_runs_on_that_schedule() -> None:
    plan = check_spec(spec(steps=[4, 6], reference={"scheduler": "euler karras"}), Limits())
    assert plan.reference is not None
    assert (plan.reference.entry.id, plan.reference.choice.config) == ("euler", {"use_karras_sigmas": True})
