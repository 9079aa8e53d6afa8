"""`sd15-random`: SD 1.5's exact architecture, built in code, saved and loaded through from_pretrained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel

from service.settings import Settings
from worker import sd15_random
from worker.model import load_model


def _parameters(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_sd15_random_has_sd15s_parameter_counts() -> None:
    # SD 1.5's published components: UNet 859,520,964; VAE 83,653,863; CLIP ViT-L/14 text tower 123,060,480.
    with torch.device("meta"):  # shapes only: no memory, no init
        unet = UNet2DConditionModel(**sd15_random.SD15_UNET_CONFIG)
        vae = AutoencoderKL(**sd15_random.SD15_VAE_CONFIG)
        text = CLIPTextModel(CLIPTextConfig(**sd15_random.SD15_TEXT_CONFIG))
    assert (_parameters(unet), _parameters(vae), _parameters(text)) == (859_520_964, 83_653_863, 123_060_480)
    assert unet.config.cross_attention_dim == text.config.hidden_size == 768
    assert vae.config.scaling_factor == 0.18215


def test_sd15_random_builds_once_and_loads_through_from_pretrained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real sizes take a minute and 2 GB on a CPU; the same code path with narrow layers takes a second.
    monkeypatch.setattr(
        sd15_random,
        "SD15_UNET_CONFIG",
        {
            **sd15_random.SD15_UNET_CONFIG,
            "block_out_channels": (32, 32, 64, 64),
            "layers_per_block": 1,
            "norm_num_groups": 8,
            "cross_attention_dim": 32,
            "sample_size": 8,
        },
    )
    monkeypatch.setattr(
        sd15_random,
        "SD15_VAE_CONFIG",
        {
            **sd15_random.SD15_VAE_CONFIG,
            "block_out_channels": (8, 8, 16, 16),
            "norm_num_groups": 4,
            "layers_per_block": 1,
            "sample_size": 64,
        },
    )
    monkeypatch.setattr(
        sd15_random,
        "SD15_TEXT_CONFIG",
        {
            **sd15_random.SD15_TEXT_CONFIG,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
        },
    )
    model = load_model(Settings(model="sd15-random", model_cache_dir=tmp_path, device="cpu", dtype="float32"))
    directory = tmp_path / f"sd15-random-v{sd15_random.SD15_RANDOM_VERSION}"
    assert model.model_id == sd15_random.SD15_RANDOM_ID
    assert json.loads((directory / "schedlab-model.json").read_text())["model_id"] == sd15_random.SD15_RANDOM_ID
    assert model.pipe.unet.dtype == torch.float32  # saved in float16, loaded as asked
    assert model.pipe.text_encoder.config.vocab_size == 49408
    assert model.scheduler_config["_class_name"] == "PNDMScheduler" and model.scheduler_config["steps_offset"] == 1
    stamp = (directory / "unet" / "diffusion_pytorch_model.safetensors").stat().st_mtime_ns
    load_model(Settings(model="sd15-random", model_cache_dir=tmp_path, device="cpu", dtype="float32"))
    assert (directory / "unet" / "diffusion_pytorch_model.safetensors").stat().st_mtime_ns == stamp  # not rebuilt
