"""Approximate previews per latent format: how well the fitted latent -> RGB projection predicts VAE decodes.

For each built-in tiny model (one per family) it loads the model on CPU, which fits the projection by least squares
against VAE decodes of seeded random latents, and records the fit's RMSE, the RMSE on latents of another seed
(held out) and, for scale, the held-out RMSE of predicting each channel's mean colour. Values are in the decoder's
[-1, 1] range, per colour channel, at one latent pixel's footprint (the average over the VAE's scale factor).

    python -m benchmarks.preview_fit          # writes docs/data/preview_fit.json, then: python benchmarks/results.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch

from benchmarks.results import write_result
from service.settings import Settings
from worker.model import FIT_LATENT_PIXELS, _projection_samples, load_model

MODELS = ("tiny", "tiny-sdxl", "tiny-sd2-v", "tiny-sd3", "tiny-flux")
HELD_OUT_SEED = 1  # the fit at load uses seed 0


def measure(name: str, cache: Path) -> dict[str, object]:
    model = load_model(Settings(model=name, model_cache_dir=cache, device="cpu", torch_threads=1, approx_decoder="fit"))
    latent_size = model.default_size // model.vae_scale_factor
    samples = max(4, -(-FIT_LATENT_PIXELS // (latent_size * latent_size)))
    with torch.no_grad():
        _, target = _projection_samples(model.pipe, model.family, samples, HELD_OUT_SEED, latent_size)
    constant_rmse = float((target - target.mean(dim=0)).pow(2).mean().sqrt())
    return {
        "model": name,
        "family": model.family.name,
        "latent_channels": int(model.pipe.vae.config.latent_channels),
        "fit_rmse": model.approx.fit_rmse,
        "heldout_rmse": model.approx.heldout_rmse,
        "heldout_constant_rmse": round(constant_rmse, 6),
        "samples": samples,
    }


def main() -> None:
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as cache:
        rows = [measure(name, Path(cache)) for name in MODELS]
    path = write_result("preview_fit", {"latent_pixels": FIT_LATENT_PIXELS, "models": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
