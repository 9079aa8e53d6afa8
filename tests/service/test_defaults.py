"""Defaults that adapt: a default never makes a request invalid, and the CLI and the API share every default."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from typer.testing import CliRunner

from service import cli
from service.api.app import create_app
from service.contract import MAX_IMAGES, MAX_STEPS, SPEC_DEFAULTS, ComparisonSpec, Limits, check_spec
from service.settings import Settings

SWEEP_AXES = {"steps", "guidance_scale", "seed"}

# CLI option -> spec field it sets (both commands take every one)
SPEC_OPTIONS = {
    "negative_prompt": "negative_prompt",
    "steps": "steps",
    "images": "num_images",
    "seed": "seed",
    "guidance_scale": "guidance_scale",
    "height": "height",
    "width": "width",
    "capture_every": "capture",
    "frames": "frames",
    "decoder": "decoder",
    "execution": "execution",
}
COMMANDS = ("compare", "submit")


@pytest.fixture
def client(redis_url: str, key_prefix: str, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(redis_url=redis_url, key_prefix=key_prefix, storage_url=tmp_path.as_uri())
    with TestClient(create_app(settings)) as client:
        yield client


def test_a_short_run_with_the_default_capture_is_accepted(client: TestClient) -> None:
    response = client.post("/v1/comparisons", json={"prompt": "a cat", "schedulers": [{"name": "euler"}], "steps": 4})
    assert response.status_code == 202, response.text


def test_the_default_capture_fits_every_step_count_and_includes_the_final_step() -> None:
    for steps in range(1, 1001):
        spec = ComparisonSpec(prompt="a cat", schedulers=[{"name": "euler"}], steps=steps)
        check_spec(spec, Limits())
        captured = spec.capture_steps()
        assert captured[-1] == steps and captured[0] >= 1, steps
        assert min(steps, 4) <= len(captured) <= 7, (steps, captured)  # about six frames


def test_the_default_capture_at_30_steps_is_the_experiments_every_5() -> None:
    spec = ComparisonSpec(prompt="a cat", schedulers=[{"name": "euler"}])
    assert spec.steps == 30 and spec.capture_steps() == [5, 10, 15, 20, 25, 30]


@pytest.mark.parametrize("command", COMMANDS)
def test_cli_options_default_to_the_specs_defaults(command: str) -> None:
    parameters = inspect.signature(getattr(cli, command)).parameters
    for option, field in SPEC_OPTIONS.items():
        if field in SWEEP_AXES:  # a list option (repeat it for a sweep axis): unset, it takes the spec's default
            assert parameters[option].default is None, (command, option)
            assert cli._axis(parameters[option].default, field) == SPEC_DEFAULTS[field], (command, option)
        else:
            assert parameters[option].default == SPEC_DEFAULTS[field], (command, option)
    assert SPEC_DEFAULTS["capture"] is None  # an unset capture option leaves the spec's adaptive default


def test_compare_and_submit_take_the_same_spec_options() -> None:
    compare, submit = (inspect.signature(getattr(cli, command)).parameters for command in COMMANDS)
    for option in dataclasses.fields(cli.SpecOptions):
        assert compare[option.name].annotation == submit[option.name].annotation, option.name
        assert compare[option.name].default == submit[option.name].default, option.name


def test_submit_sends_the_spec_its_options_build(monkeypatch: pytest.MonkeyPatch) -> None:
    import service.submit

    sent: list[dict] = []
    monkeypatch.setattr(service.submit, "submit_comparison", lambda url, key, body, **kwargs: sent.append(body) or 0)
    options = ["--prompt", "a red circle", "--scheduler", "euler", "--negative-prompt", "blurry", "--height", "128"]
    options += ["--width", "64", "--config", "use_karras_sigmas=true", "--capture-step", "2", "--capture-step", "4"]
    result = CliRunner().invoke(cli.app, ["submit", *options, "--steps", "4", "--steps", "8"])
    assert result.exit_code == 0, result.output
    assert sent == [
        {
            "prompt": "a red circle",
            "negative_prompt": "blurry",
            "seed": 0,
            "num_images": 4,
            "steps": [4, 8],
            "guidance_scale": 7.5,
            "height": 128,
            "width": 64,
            "schedulers": [{"name": "euler", "config": {"use_karras_sigmas": True}}],
            "capture": {"steps": [2, 4]},
            "frames": "latent",
            "decoder": "vae",
            "execution": "batched",
        }
    ]


def test_caps_are_declared_once_settings_take_limits_defaults_and_the_specs_bounds() -> None:
    assert Limits.from_settings(Settings()) == Limits()
    for cap, bound in (("max_steps", MAX_STEPS), ("max_images", MAX_IMAGES)):
        Settings(**{cap: bound})
        with pytest.raises(ValidationError):
            Settings(**{cap: bound + 1})
