"""`sd15-random`: Stable Diffusion 1.5's exact architecture with seeded random weights, for offline speed tests.

UNet (~860 M parameters), VAE (~84 M) and CLIP ViT-L/14 text tower (~123 M) have SD 1.5's published shapes
(checked against diffusers' `create_unet_diffusers_config` / `create_vae_diffusers_config` derivation), so a
GPU run measures real-size throughput without a download. The images are noise. The tokenizer is the offline
byte-level one of the tiny model (token ids stay below the real 49,408-entry embedding table).

Built on first use, on the target device (weight init on a GPU takes seconds, on a CPU a minute), saved in
float16 with `save_pretrained` into the model cache (about 2 GB; never committed) and loaded back through
`StableDiffusionPipeline.from_pretrained` like every other model.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import torch

from worker.pipeline_files import SD15_SCHEDULER_CONFIG, save_pipeline, sd15_pipeline
from worker.tiny_model import write_clip_tokenizer_files

logger = logging.getLogger(__name__)

SD15_RANDOM_ID = "schedlab/sd15-random"
SD15_RANDOM_VERSION = "1"
SD15_RANDOM_SEED = 0

SD15_UNET_CONFIG: dict[str, Any] = {
    "sample_size": 64,
    "in_channels": 4,
    "out_channels": 4,
    "layers_per_block": 2,
    "block_out_channels": (320, 640, 1280, 1280),
    "down_block_types": ("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
    "up_block_types": ("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
    "cross_attention_dim": 768,
    "attention_head_dim": 8,
}
SD15_VAE_CONFIG: dict[str, Any] = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ("DownEncoderBlock2D",) * 4,
    "up_block_types": ("UpDecoderBlock2D",) * 4,
    "block_out_channels": (128, 256, 512, 512),
    "layers_per_block": 2,
    "latent_channels": 4,
    "sample_size": 512,
    "scaling_factor": 0.18215,
}
SD15_TEXT_CONFIG: dict[str, Any] = {
    "vocab_size": 49408,
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "max_position_embeddings": 77,
    "hidden_act": "quick_gelu",
}


def build_sd15_random(directory: Path, device: torch.device | str = "cpu") -> Path:
    """Build the pipeline with seeded random weights on `device` and save it (float16) under `directory`."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    tokenizer_dir = directory / "_tokenizer_src"
    write_clip_tokenizer_files(tokenizer_dir)
    tokenizer = CLIPTokenizer(str(tokenizer_dir / "vocab.json"), str(tokenizer_dir / "merges.txt"), model_max_length=77)
    # Factory functions allocate and initialise on `device` directly: on a GPU the 1 B parameters take seconds.
    with torch.device(device):
        torch.manual_seed(SD15_RANDOM_SEED)
        unet = UNet2DConditionModel(**SD15_UNET_CONFIG)
        torch.manual_seed(SD15_RANDOM_SEED + 1)
        vae = AutoencoderKL(**SD15_VAE_CONFIG)
        torch.manual_seed(SD15_RANDOM_SEED + 2)
        text_encoder = CLIPTextModel(
            CLIPTextConfig(
                **SD15_TEXT_CONFIG,
                bos_token_id=tokenizer.bos_token_id,
                eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id,
            )
        )
    pipe = sd15_pipeline(unet, vae, text_encoder, tokenizer)
    pipe.to(torch.float16)
    save_pipeline(pipe, directory, SD15_SCHEDULER_CONFIG)
    (directory / "schedlab-model.json").write_text(
        json.dumps(
            {
                "model_id": SD15_RANDOM_ID,
                "version": SD15_RANDOM_VERSION,
                "seed": SD15_RANDOM_SEED,
                "built_on": str(torch.device(device).type),
                "note": "random weights with SD 1.5's architecture; for speed measurements only",
            }
        )
    )
    logger.info("built %s at %s", SD15_RANDOM_ID, directory)
    return directory


def ensure_sd15_random(cache_dir: Path, device: torch.device | str = "cpu") -> Path:
    """The model's directory under `cache_dir`, built on `device` on first use."""
    directory = cache_dir / f"sd15-random-v{SD15_RANDOM_VERSION}"
    if not (directory / "schedlab-model.json").exists():
        # Build into a temporary sibling and rename, so a crash never leaves half a model that looks complete.
        staging = cache_dir / f".sd15-random-v{SD15_RANDOM_VERSION}.{os.getpid()}.tmp"
        build_sd15_random(staging, device)
        if not directory.exists():
            staging.rename(directory)
    return directory
