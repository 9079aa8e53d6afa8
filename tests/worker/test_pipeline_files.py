"""Models schedlab builds are saved as a real checkpoint ships: the scheduler file verbatim, extra keys included."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

from diffusers import PNDMScheduler

from worker.model import LoadedModel
from worker.pipeline_files import SD15_SCHEDULER_CONFIG


def test_the_tiny_models_scheduler_file_is_sd15s_with_the_keys_pndm_does_not_take(tiny_model: LoadedModel) -> None:
    saved = json.loads((Path(tiny_model.info["source"]) / "scheduler" / "scheduler_config.json").read_text())
    assert saved["_class_name"] == "PNDMScheduler"
    assert {key: saved[key] for key in SD15_SCHEDULER_CONFIG} == SD15_SCHEDULER_CONFIG
    assert "clip_sample" not in inspect.signature(PNDMScheduler.__init__).parameters  # kept although PNDM ignores it
