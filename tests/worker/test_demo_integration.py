"""The committed demo model through the normal model setting, with quality in the results."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from PIL import Image

from service.contract import ComparisonSpec, StorageLayout
from service.settings import Settings
from service.storage import MemoryStorage
from worker.demo_model import DEMO_MODEL_ID
from worker.engine import ComparisonEngine
from worker.model import load_model


@pytest.fixture(scope="module")
def demo_engine(tmp_path_factory: pytest.TempPathFactory) -> ComparisonEngine:
    settings = Settings(model="demo", device="cpu", torch_threads=1, model_cache_dir=tmp_path_factory.mktemp("c"))
    return ComparisonEngine(load_model(settings))


def test_demo_model_is_the_default_and_loads_through_the_model_setting(demo_engine: ComparisonEngine) -> None:
    assert Settings.model_fields["model"].default == "demo"
    assert demo_engine.model.model_id == DEMO_MODEL_ID and demo_engine.model.revision
    assert demo_engine.model.pipe.__class__.__name__ == "StableDiffusionPipeline"
    assert demo_engine.model.scorer is not None  # its checker comes with it


def test_comparison_on_the_demo_model_reports_quality_well_above_chance(demo_engine: ComparisonEngine) -> None:
    spec = ComparisonSpec(
        prompt="a red circle on a black background",
        seed=0,
        num_images=4,
        steps=20,
        guidance_scale=6.0,
        schedulers=[{"name": "dpmpp_2m"}],
        capture={"every": 10},
    )
    sink = MemoryStorage()
    outcome = demo_engine.run(spec, sink, StorageLayout(""))
    quality = outcome.results[0].quality
    assert quality is not None and quality["n"] == 4
    assert quality["colour_match"] >= 0.75  # chance: 1 in 6 colours
    manifest = json.loads(sink.files[outcome.keys.manifest])
    assert manifest["schedulers"][0]["quality"] == quality


def test_tiny_model_results_carry_no_quality(engine: ComparisonEngine) -> None:
    from tests.support import run_spec

    outcome, _ = run_spec(engine, schedulers=[{"name": "euler"}])
    assert engine.model.scorer is None and outcome.results[0].quality is None


def test_quality_is_whatever_the_loaded_models_scorer_says(engine: ComparisonEngine) -> None:
    from tests.support import run_spec

    seen: list[tuple[int, list[str]]] = []

    def scorer(images: Sequence[Image.Image], prompts: Sequence[str]) -> dict[str, float]:
        seen.append((len(images), list(prompts)))
        return {"n": float(len(images))}

    scored = ComparisonEngine(dataclasses.replace(engine.model, scorer=scorer))
    outcome, _ = run_spec(scored, schedulers=[{"name": "euler"}], prompt="a blue square")
    assert outcome.results[0].quality == {"n": 2.0}
    assert seen == [(2, ["a blue square", "a blue square"])]


def test_the_demo_weights_are_committed_small_safetensors() -> None:
    root = Path(__file__).resolve().parents[2] / "models" / "shapes-sd"
    weights = list(root.rglob("*.safetensors"))
    assert len(weights) == 3 and sum(w.stat().st_size for w in weights) < 20 * 2**20
