"""How schedlab saves the models it builds itself (tiny, tiny families, sd15-random, the trained demo model): as a
real checkpoint ships, so they load through the same `from_pretrained` path as SD 1.5.

A checkpoint's `scheduler/scheduler_config.json` carries keys its scheduler class does not take (SD 1.5's PNDM
file has `clip_sample` and `set_alpha_to_one`); `from_config` passes them on to every scheduler derived from it,
which is part of what a comparison must reproduce. `save_pipeline` writes that file verbatim.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# SD 1.5's own scheduler config, so every scheduler derived from it behaves as on SD 1.5.
SD15_SCHEDULER_CONFIG: dict[str, object] = {
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "clip_sample": False,
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
    "num_train_timesteps": 1000,
    "prediction_type": "epsilon",
    "trained_betas": None,
    "timestep_spacing": "leading",
}


def sd15_pipeline(unet: Any, vae: Any, text_encoder: Any, tokenizer: Any) -> Any:
    """A Stable Diffusion 1.x pipeline of these components with SD 1.5's PNDM scheduler and no safety checker."""
    from diffusers import PNDMScheduler, StableDiffusionPipeline

    return StableDiffusionPipeline(
        unet=unet,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=PNDMScheduler.from_config(SD15_SCHEDULER_CONFIG),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def save_pipeline(pipe: Any, directory: Path, scheduler_config: dict[str, object]) -> None:
    """`save_pretrained` (safetensors), then the checkpoint's scheduler file: `scheduler_config` over what diffusers
    wrote, keys the scheduler class does not take included."""
    pipe.save_pretrained(directory, safe_serialization=True)
    scheduler_file = directory / "scheduler" / "scheduler_config.json"
    saved = json.loads(scheduler_file.read_text())
    scheduler_file.write_text(json.dumps({**saved, **scheduler_config}, indent=2, sort_keys=True) + "\n")
