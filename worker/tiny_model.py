"""The tiny test model (`SCHEDLAB_MODEL=tiny`): a Stable Diffusion pipeline built from configs, offline,
deterministically, with random weights. (The default model is the trained demo model, `worker.demo_model`.)

It is saved with `save_pretrained` and loaded back through `StableDiffusionPipeline.from_pretrained`, the same
code that loads SD 1.5 on a GPU host, so the tiny model exercises the real loading path. Its weights are random:
it turns noise into other noise, which is all the engine's exactness tests need.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch

from worker.pipeline_files import SD15_SCHEDULER_CONFIG, save_pipeline, sd15_pipeline

logger = logging.getLogger(__name__)

TINY_MODEL_ID = "schedlab/tiny-sd"
# Bump when the configs below change, so a stale cached copy is rebuilt instead of reused.
TINY_MODEL_VERSION = "1"
TINY_WEIGHTS_SEED = 0


def write_clip_tokenizer_files(directory: Path, words: list[str] = ()) -> None:  # type: ignore[assignment]
    """Write a CLIP BPE vocabulary (byte-level symbols, their `</w>` forms, optional whole words) and merges.

    With no merges a word tokenizes into its characters; `words` adds whole-word tokens (and the merges that
    build them) for models trained on a small closed vocabulary.
    """
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    symbols = list(bytes_to_unicode().values())
    vocab_tokens = symbols + [s + "</w>" for s in symbols]
    merges: list[str] = []
    for word in words:
        # Left-to-right merges: w+o -> wo, wo+r -> wor, ... ; the last merge carries the `</w>` marker.
        pieces = [*word[:-1], word[-1] + "</w>"]
        built = pieces[0]
        for piece in pieces[1:]:
            merge = f"{built} {piece}"
            built = built + piece
            if merge not in merges:
                merges.append(merge)
            if built not in vocab_tokens:
                vocab_tokens.append(built)
    vocab_tokens += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {token: index for index, token in enumerate(dict.fromkeys(vocab_tokens))}
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    (directory / "merges.txt").write_text("\n".join(["#version: 0.2", *merges]) + "\n")


def build_tiny_pipeline(directory: Path) -> Path:
    """Build the tiny pipeline from configs with seeded random weights and save it under `directory`."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    tokenizer_dir = directory / "_tokenizer_src"
    write_clip_tokenizer_files(tokenizer_dir)
    tokenizer = CLIPTokenizer(str(tokenizer_dir / "vocab.json"), str(tokenizer_dir / "merges.txt"), model_max_length=77)

    torch.manual_seed(TINY_WEIGHTS_SEED)
    unet = UNet2DConditionModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(16, 32),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=16,
        attention_head_dim=4,
        norm_num_groups=8,
    )
    torch.manual_seed(TINY_WEIGHTS_SEED + 1)
    # Four blocks make the VAE downscale by 8, as SD's does: 64x64 images, 8x8 latents.
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(8, 8, 16, 16),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=4,
        sample_size=64,
    )
    torch.manual_seed(TINY_WEIGHTS_SEED + 2)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            max_position_embeddings=77,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    )
    save_pipeline(sd15_pipeline(unet, vae, text_encoder, tokenizer), directory, SD15_SCHEDULER_CONFIG)
    (directory / "schedlab-model.json").write_text(
        json.dumps({"model_id": TINY_MODEL_ID, "version": TINY_MODEL_VERSION, "seed": TINY_WEIGHTS_SEED})
    )
    logger.info("built the tiny model at %s", directory)
    return directory


def ensure_tiny_model(cache_dir: Path) -> Path:
    """The tiny model's directory under `cache_dir`, built on first use."""
    directory = cache_dir / f"tiny-sd-v{TINY_MODEL_VERSION}"
    if not (directory / "schedlab-model.json").exists():
        # Build into a temporary sibling and rename, so a crash never leaves half a model that looks complete.
        staging = cache_dir / f".tiny-sd-v{TINY_MODEL_VERSION}.{torch.initial_seed() % 10**6}.tmp"
        build_tiny_pipeline(staging)
        staging.rename(directory) if not directory.exists() else None
    return directory
