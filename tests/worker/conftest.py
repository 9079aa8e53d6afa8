"""Worker-test fixtures: the tiny model loaded once per session, its engine, and plain diffusers beside it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from diffusers import StableDiffusionPipeline

from service.settings import Settings
from worker.engine import ComparisonEngine
from worker.model import LoadedModel, load_model

# The tiny model's ops are too small to gain from threads; on 2 cores, threads only contend.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    cache = tmp_path_factory.mktemp("model-cache")
    return load_model(Settings(model="tiny", model_cache_dir=Path(cache), device="cpu", torch_threads=1))


@pytest.fixture(scope="session")
def engine(tiny_model: LoadedModel) -> ComparisonEngine:
    return ComparisonEngine(tiny_model)


@pytest.fixture(scope="session")
def plain_pipe(tiny_model: LoadedModel) -> StableDiffusionPipeline:
    """Plain diffusers, loaded on its own from the tiny model's folder: the independent path tests compare with."""
    pipe = StableDiffusionPipeline.from_pretrained(tiny_model.info["source"], use_safetensors=True)
    pipe.set_progress_bar_config(disable=True)
    return pipe
