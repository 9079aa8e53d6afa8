"""Tiny offline models of every family schedlab runs: SDXL, SD 2.x v-prediction, SD 3 and Flux.

Like `tiny` (worker/tiny_model.py) each is built from configs written here with seeded random weights, saved
with `save_pretrained` and loaded back through the family's own diffusers pipeline `from_pretrained`, so the
tests exercise the loading path a real checkpoint takes. Tokenizers are built in code too: CLIP BPE over bytes
(as for `tiny`) and a T5-style Unigram tokenizer from the `tokenizers` library wrapped in transformers'
`T5Tokenizer` (transformers 5's fast T5 tokenizer). Shapes follow the real families where a code path depends on
them (SDXL's two encoders and
time ids, SD 3's three encoders and 16-channel latents, Flux's packed 16-channel latents and guidance embedding),
at 64 x 64 pixels and 8 x 8 latents.
"""

from __future__ import annotations

import json
import logging
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from worker.pipeline_files import SD15_SCHEDULER_CONFIG, save_pipeline
from worker.tiny_model import TINY_WEIGHTS_SEED, write_clip_tokenizer_files

logger = logging.getLogger(__name__)

# Bump when a config below changes, so a stale cached copy is rebuilt instead of reused.
TINY_FAMILIES_VERSION = "1"
TINY_SIZE = 64

# The schedulers the real checkpoints ship with (their scheduler_config.json), so every scheduler derived from
# the tiny model's config behaves as it would on the real one.
SDXL_SCHEDULER_CONFIG: dict[str, object] = {
    "_class_name": "EulerDiscreteScheduler",
    **{key: value for key, value in SD15_SCHEDULER_CONFIG.items()},
    "interpolation_type": "linear",
    "use_karras_sigmas": False,
    "sample_max_value": 1.0,
}
SD2_V_SCHEDULER_CONFIG: dict[str, object] = {
    "_class_name": "DDIMScheduler",
    **{key: value for key, value in SD15_SCHEDULER_CONFIG.items()},
    "prediction_type": "v_prediction",
}
SD3_SCHEDULER_CONFIG: dict[str, object] = {
    "_class_name": "FlowMatchEulerDiscreteScheduler",
    "num_train_timesteps": 1000,
    "shift": 3.0,
}
FLUX_DEV_SCHEDULER_CONFIG: dict[str, object] = {
    "_class_name": "FlowMatchEulerDiscreteScheduler",
    "num_train_timesteps": 1000,
    "shift": 3.0,
    "use_dynamic_shifting": True,
    "base_shift": 0.5,
    "max_shift": 1.15,
    "base_image_seq_len": 256,
    "max_image_seq_len": 4096,
}


def clip_tokenizer(directory: Path) -> Any:
    from transformers import CLIPTokenizer

    write_clip_tokenizer_files(directory)
    return CLIPTokenizer(str(directory / "vocab.json"), str(directory / "merges.txt"), model_max_length=77)


def t5_tokenizer() -> Any:
    """A T5-style tokenizer built in code: Unigram over single characters, `▁` word starts, `</s>` appended."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import T5Tokenizer  # transformers 5: the fast (tokenizers-backed) T5 tokenizer

    characters = string.ascii_letters + string.digits + string.punctuation
    pieces = ["<pad>", "</s>", "<unk>", "▁", *characters, *("▁" + c for c in characters)]
    # Word-start pieces score higher than a bare `▁` plus the character, so "▁a" wins over "▁" "a".
    vocab = [(piece, 0.0 if index < 3 else -1.0 - index / 1000) for index, piece in enumerate(pieces)]
    backend = Tokenizer(models.Unigram(vocab, unk_id=2))
    backend.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    backend.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    backend.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", 1)]
    )
    return T5Tokenizer(tokenizer_object=backend, eos_token="</s>", unk_token="<unk>", pad_token="<pad>", extra_ids=0)


def _t5_encoder(tokenizer: Any) -> Any:
    from transformers import T5Config, T5EncoderModel

    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    config.decoder_start_token_id = tokenizer.pad_token_id  # T5's convention; not a T5Config keyword in transformers 5
    return T5EncoderModel(config)


def _clip_config(tokenizer: Any, projection_dim: int = 16) -> Any:
    from transformers import CLIPTextConfig

    return CLIPTextConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        max_position_embeddings=77,
        projection_dim=projection_dim,
        hidden_act="gelu",
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )


def _vae(latent_channels: int, **extra: Any) -> Any:
    from diffusers import AutoencoderKL

    # Four blocks make the VAE downscale by 8, as the real ones do: 64x64 images, 8x8 latents.
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(8, 8, 16, 16),
        layers_per_block=1,
        latent_channels=latent_channels,
        norm_num_groups=4,
        sample_size=TINY_SIZE,
        **extra,
    )


def _scheduler(config: dict[str, object]) -> Any:
    import diffusers

    return getattr(diffusers, str(config["_class_name"])).from_config(config)


def build_tiny_sdxl(directory: Path) -> Any:
    from diffusers import StableDiffusionXLPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    tokenizer = clip_tokenizer(directory / "_tokenizer_src")
    torch.manual_seed(TINY_WEIGHTS_SEED)
    unet = UNet2DConditionModel(
        sample_size=TINY_SIZE // 8,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(16, 32),
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4),
        use_linear_projection=True,
        transformer_layers_per_block=(1, 2),
        addition_embed_type="text_time",
        addition_time_embed_dim=8,
        projection_class_embeddings_input_dim=6 * 8 + 16,  # six time ids x 8 + the pooled text embedding
        cross_attention_dim=32,  # both encoders' hidden states, concatenated
        norm_num_groups=8,
    )
    torch.manual_seed(TINY_WEIGHTS_SEED + 1)
    vae = _vae(4, scaling_factor=0.13025, force_upcast=True)
    torch.manual_seed(TINY_WEIGHTS_SEED + 2)
    text_encoder = CLIPTextModel(_clip_config(tokenizer))
    text_encoder_2 = CLIPTextModelWithProjection(_clip_config(tokenizer))
    return StableDiffusionXLPipeline(
        vae=vae,
        text_encoder=text_encoder,
        text_encoder_2=text_encoder_2,
        tokenizer=tokenizer,
        tokenizer_2=tokenizer,
        unet=unet,
        scheduler=_scheduler(SDXL_SCHEDULER_CONFIG),
        add_watermarker=False,
    )


def build_tiny_sd2_v(directory: Path) -> Any:
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel

    tokenizer = clip_tokenizer(directory / "_tokenizer_src")
    torch.manual_seed(TINY_WEIGHTS_SEED)
    unet = UNet2DConditionModel(
        sample_size=TINY_SIZE // 8,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(16, 32),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        attention_head_dim=(2, 4),
        use_linear_projection=True,  # SD 2.x's transformer blocks
        cross_attention_dim=16,
        norm_num_groups=8,
    )
    torch.manual_seed(TINY_WEIGHTS_SEED + 1)
    vae = _vae(4)
    torch.manual_seed(TINY_WEIGHTS_SEED + 2)
    text_encoder = CLIPTextModel(_clip_config(tokenizer))
    return StableDiffusionPipeline(
        unet=unet,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=_scheduler(SD2_V_SCHEDULER_CONFIG),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def build_tiny_sd3(directory: Path) -> Any:
    from diffusers import SD3Transformer2DModel, StableDiffusion3Pipeline
    from transformers import CLIPTextModelWithProjection

    tokenizer = clip_tokenizer(directory / "_tokenizer_src")
    tokenizer_3 = t5_tokenizer()
    torch.manual_seed(TINY_WEIGHTS_SEED)
    transformer = SD3Transformer2DModel(
        sample_size=TINY_SIZE // 8,
        patch_size=2,
        in_channels=16,
        out_channels=16,
        num_layers=2,
        attention_head_dim=8,
        num_attention_heads=2,
        joint_attention_dim=32,  # T5's d_model; the two CLIPs' 16 + 16 are padded to it
        caption_projection_dim=16,
        pooled_projection_dim=32,  # the two CLIPs' pooled projections, concatenated
        pos_embed_max_size=16,
    )
    torch.manual_seed(TINY_WEIGHTS_SEED + 1)
    vae = _vae(16, scaling_factor=1.5305, shift_factor=0.0609, use_quant_conv=False, use_post_quant_conv=False)
    torch.manual_seed(TINY_WEIGHTS_SEED + 2)
    text_encoder = CLIPTextModelWithProjection(_clip_config(tokenizer))
    text_encoder_2 = CLIPTextModelWithProjection(_clip_config(tokenizer))
    text_encoder_3 = _t5_encoder(tokenizer_3)
    return StableDiffusion3Pipeline(
        transformer=transformer,
        scheduler=_scheduler(SD3_SCHEDULER_CONFIG),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        text_encoder_2=text_encoder_2,
        tokenizer_2=tokenizer,
        text_encoder_3=text_encoder_3,
        tokenizer_3=tokenizer_3,
    )


def build_tiny_flux(directory: Path) -> Any:
    from diffusers import FluxPipeline, FluxTransformer2DModel
    from transformers import CLIPTextModel

    tokenizer = clip_tokenizer(directory / "_tokenizer_src")
    tokenizer_2 = t5_tokenizer()
    torch.manual_seed(TINY_WEIGHTS_SEED)
    transformer = FluxTransformer2DModel(
        patch_size=1,
        in_channels=64,  # 16 latent channels packed 2 x 2
        num_layers=1,
        num_single_layers=1,
        attention_head_dim=16,
        num_attention_heads=2,
        joint_attention_dim=32,  # T5's d_model
        pooled_projection_dim=16,  # CLIP's pooled output
        guidance_embeds=True,  # as FLUX.1-dev: guidance_scale is an input of the model, not two passes
        axes_dims_rope=(4, 4, 8),
    )
    torch.manual_seed(TINY_WEIGHTS_SEED + 1)
    vae = _vae(16, scaling_factor=0.3611, shift_factor=0.1159, use_quant_conv=False, use_post_quant_conv=False)
    torch.manual_seed(TINY_WEIGHTS_SEED + 2)
    text_encoder = CLIPTextModel(_clip_config(tokenizer))
    text_encoder_2 = _t5_encoder(tokenizer_2)
    return FluxPipeline(
        scheduler=_scheduler(FLUX_DEV_SCHEDULER_CONFIG),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        text_encoder_2=text_encoder_2,
        tokenizer_2=tokenizer_2,
        transformer=transformer,
    )


# SCHEDLAB_MODEL name -> (model id in manifests, builder, the real checkpoint's scheduler config).
TINY_FAMILIES: dict[str, tuple[str, Callable[[Path], Any], dict[str, object]]] = {
    "tiny-sdxl": ("schedlab/tiny-sdxl", build_tiny_sdxl, SDXL_SCHEDULER_CONFIG),
    "tiny-sd2-v": ("schedlab/tiny-sd2-v", build_tiny_sd2_v, SD2_V_SCHEDULER_CONFIG),
    "tiny-sd3": ("schedlab/tiny-sd3", build_tiny_sd3, SD3_SCHEDULER_CONFIG),
    "tiny-flux": ("schedlab/tiny-flux", build_tiny_flux, FLUX_DEV_SCHEDULER_CONFIG),
}


def build_tiny_family(name: str, directory: Path) -> Path:
    model_id, builder, scheduler_config = TINY_FAMILIES[name]
    save_pipeline(builder(directory), directory, scheduler_config)
    marker = {
        "model_id": model_id,
        "version": TINY_FAMILIES_VERSION,
        "seed": TINY_WEIGHTS_SEED,
        # Flux's pipeline defaults to 128 latent pixels whatever the model; the tiny one is drawn at 64.
        "default_size": TINY_SIZE,
    }
    (directory / "schedlab-model.json").write_text(json.dumps(marker))
    logger.info("built %s at %s", name, directory)
    return directory


def ensure_tiny_family(name: str, cache_dir: Path) -> Path:
    """The tiny model `name`'s directory under `cache_dir`, built on first use."""
    directory = cache_dir / f"{name}-v{TINY_FAMILIES_VERSION}"
    if not (directory / "schedlab-model.json").exists():
        # Build into a temporary sibling and rename, so a crash never leaves half a model that looks complete.
        cache_dir.mkdir(parents=True, exist_ok=True)
        staging = cache_dir / f".{name}-v{TINY_FAMILIES_VERSION}.{torch.initial_seed() % 10**6}.tmp"
        build_tiny_family(name, staging)
        if not directory.exists():
            staging.rename(directory)
    return directory
