"""Approximate previews per model: how well the fitted latent -> RGB projection predicts VAE decodes of real latents.

For the demo model and each built-in tiny model (one per family) it loads the model on CPU, which fits the
projection by least squares against VAE decodes of latents the model itself draws (`worker.model.drawn_latents`),
and records the fit's RMSE, its RMSE on images drawn from another seed and other prompts (held out), and, on the
same held-out images, the RMSE of a projection fitted on random N(0, 1) latents (what the decoder used before) and of
predicting each channel's mean colour. Values are in the decoder's [-1, 1] range, per colour channel, at one latent
pixel's footprint (the average over the VAE's scale factor).

    python -m benchmarks.preview_fit          # writes docs/data/preview_fit.json, then: python benchmarks/results.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch

from benchmarks.results import write_result
from service.settings import Settings
from worker.model import (
    FIT_LATENT_PIXELS,
    FIT_MAX_LATENT_SIZE,
    _projection_samples,
    drawn_latents,
    fit_sample_count,
    load_model,
)

MODELS = ("demo", "tiny", "tiny-sdxl", "tiny-sd2-v", "tiny-sd3", "tiny-flux")
HELD_OUT_SEED = 1  # the fit at load uses seed 0 and holds seed 1 out


def _rmse(x: torch.Tensor, y: torch.Tensor, solution: torch.Tensor) -> float:
    return round(float((x @ solution - y).pow(2).mean().sqrt()), 6)


def measure(name: str, cache: Path) -> dict[str, object]:
    model = load_model(Settings(model=name, model_cache_dir=cache, device="cpu", torch_threads=1, approx_decoder="fit"))
    latent_size = min(model.default_size // model.vae_scale_factor, FIT_MAX_LATENT_SIZE)
    samples = fit_sample_count(latent_size)
    channels = int(model.pipe.vae.config.latent_channels)
    with torch.no_grad():
        x, y = _projection_samples(
            model.pipe, model.family, drawn_latents(model.pipe, model.family, samples, HELD_OUT_SEED, latent_size)
        )
        random = torch.randn((samples, channels, latent_size, latent_size), generator=torch.Generator().manual_seed(0))
        random_x, random_y = _projection_samples(model.pipe, model.family, random)
    random_fit = torch.linalg.lstsq(random_x, random_y).solution
    fitted = torch.tensor([*model.approx.matrix, model.approx.bias], dtype=torch.float64)
    return {
        "model": name,
        "family": model.family.name,
        "latent_channels": channels,
        "fit_rmse": model.approx.fit_rmse,
        "heldout_rmse": model.approx.heldout_rmse,
        "heldout_rmse_recomputed": _rmse(x, y, fitted),
        "heldout_random_fit_rmse": _rmse(x, y, random_fit),
        "heldout_constant_rmse": round(float((y - y.mean(dim=0)).pow(2).mean().sqrt()), 6),
        "samples": samples,
        "fitted_on": model.approx.fitted_on,
    }


def main() -> None:
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as cache:
        rows = [measure(name, Path(cache)) for name in MODELS]
    path = write_result("preview_fit", {"latent_pixels": FIT_LATENT_PIXELS, "models": rows})
    print(f"wrote {path}")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
