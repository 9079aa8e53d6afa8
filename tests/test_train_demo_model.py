"""The demo model's training command is deterministic from its seed, and writes a loadable SD 1.x pipeline."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _train_script():
    spec = importlib.util.spec_from_file_location("train_demo_model", REPO / "scripts" / "train_demo_model.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# A few steps of everything the real command runs: VAE, precompute, UNet with EMA, save, evaluation, stiffness.
TINY_RUN = [
    "--threads", "1", "--vae-steps", "4", "--vae-batch", "4", "--vae-eval-every", "0", "--dataset-size", "64",
    "--unet-steps", "4", "--unet-batch", "8", "--unet-eval-every", "0", "--eval-steps", "2", "--eval-seeds", "1",
    "--log-every", "2",
]  # fmt: skip


@pytest.mark.slow
def test_training_twice_from_the_same_seed_writes_the_same_model(tmp_path: Path) -> None:
    train = _train_script()
    outputs = [tmp_path / "a", tmp_path / "b"]
    for out in outputs:
        assert train.main(["--out", str(out), *TINY_RUN]) == 0
    weights = sorted(path.relative_to(outputs[0]) for path in outputs[0].rglob("*.safetensors"))
    assert len(weights) == 3  # vae, unet, text_encoder
    for relative in weights:
        assert (outputs[0] / relative).read_bytes() == (outputs[1] / relative).read_bytes(), relative
    metas = [json.loads((out / "schedlab-model.json").read_text()) for out in outputs]
    assert metas[0]["losses"] == metas[1]["losses"] and metas[0]["scaling_factor"] == metas[1]["scaling_factor"]
    assert metas[0]["stiffness"]["h_lambda"] == metas[1]["stiffness"]["h_lambda"]
    # Another seed trains another model: the comparison above can tell models apart.
    assert train.main(["--out", str(tmp_path / "c"), "--seed", "1", *TINY_RUN]) == 0
    assert (tmp_path / "c" / weights[0]).read_bytes() != (outputs[0] / weights[0]).read_bytes()
