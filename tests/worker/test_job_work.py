"""`job_work` (what dry runs price) counts the UNet calls, samples and decodes the engine really makes."""

from __future__ import annotations

from typing import Any

import pytest
import torch

import worker.frames
from service.contract import ComparisonSpec, Execution, JobWork, StorageLayout, job_work
from service.storage import MemoryStorage
from worker.engine import ComparisonEngine
from worker.model import LoadedModel


class _Counted:
    """What the model did: UNet forward passes with their samples, and images the VAE decoded."""

    def __init__(self) -> None:
        self.unet_calls = 0
        self.unet_batch_sizes: dict[int, int] = {}
        self.decoded_images = 0


def _count(monkeypatch: pytest.MonkeyPatch, model: LoadedModel) -> _Counted:
    counted = _Counted()
    unet = model.family.denoiser(model.pipe)
    forward, decode = unet.forward, worker.frames.decode_vae

    def counting_forward(sample: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        counted.unet_calls += 1
        counted.unet_batch_sizes[sample.shape[0]] = counted.unet_batch_sizes.get(sample.shape[0], 0) + 1
        return forward(sample, *args, **kwargs)

    def counting_decode(*args: Any, **kwargs: Any) -> Any:
        images = decode(*args, **kwargs)
        counted.decoded_images += len(images)
        return images

    monkeypatch.setattr(unet, "forward", counting_forward)
    monkeypatch.setattr(worker.frames, "decode_vae", counting_decode)
    return counted


# Order-2 (heun: one tick fewer than twice its steps) and PNDM (one more) beside euler; cells with and without
# guidance (one sample per image, or two); a reference; latent frames at every step (the last reuses the finals).
SWEEP: dict[str, Any] = {
    "prompt": "a red circle on a black background",
    "num_images": 2,
    "steps": [2, 3],
    "guidance_scale": [1, 7.5],
    "schedulers": [{"name": "euler"}, {"name": "heun"}, {"name": "pndm"}],
    "capture": {"every": 1},
    "reference": {"scheduler": "dpmpp_2m", "steps": 4},
}


def test_a_batched_sweeps_ticks_chunks_samples_and_decodes_are_counted_from_its_spec(
    tiny_model: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = ComparisonEngine(tiny_model, max_batch=8)  # ticks of up to 26 samples: split into chunks
    spec = ComparisonSpec.model_validate(SWEEP)
    counted = _count(monkeypatch, tiny_model)
    outcome = engine.run(spec, MemoryStorage(), StorageLayout(""))
    work = job_work(spec, engine.catalog, max_batch=8)
    execution = outcome.manifest.execution
    assert work.execution is Execution.batched and execution["mode"] == "batched"
    assert work.ticks == execution["ticks"]
    assert work.tick_batch_sizes == {int(size): ticks for size, ticks in execution["tick_batch_sizes"].items()}
    assert (work.unet_calls, work.decoded_images) == (counted.unet_calls, counted.decoded_images)
    assert work.unet_samples == sum(size * calls for size, calls in counted.unet_batch_sizes.items())
    assert max(counted.unet_batch_sizes) == 8 and max(work.tick_batch_sizes) > 8


@pytest.mark.parametrize("fields", [{"execution": "sequential"}, {"decoder": "approx"}, {"frames": "denoised"}])
def test_sequential_runs_and_other_frames_are_counted_from_the_spec(
    tiny_model: LoadedModel, monkeypatch: pytest.MonkeyPatch, fields: dict[str, str]
) -> None:
    engine = ComparisonEngine(tiny_model)
    spec = ComparisonSpec.model_validate({**SWEEP, **fields})
    counted = _count(monkeypatch, tiny_model)
    engine.run(spec, MemoryStorage(), StorageLayout(""))
    work: JobWork = job_work(spec, engine.catalog, max_batch=64)
    assert work.execution.value == fields.get("execution", "batched")
    assert (work.unet_calls, work.decoded_images) == (counted.unet_calls, counted.decoded_images)
    assert work.unet_samples == sum(size * calls for size, calls in counted.unet_batch_sizes.items())
    if work.execution is Execution.sequential:
        assert work.tick_batch_sizes == counted.unet_batch_sizes
