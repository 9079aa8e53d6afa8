"""The approximate decoder: published SD 1.x factors for SD 1.x VAEs, a least-squares fit otherwise."""

from __future__ import annotations

from types import SimpleNamespace

import torch

from worker.model import SD15_LATENT_RGB_FACTORS, LoadedModel, _approx_projection, fit_approx_projection


def _pipe_with_vae(**config: object) -> SimpleNamespace:
    return SimpleNamespace(vae=SimpleNamespace(config=SimpleNamespace(**config)))


def test_sd1_vaes_use_the_published_factors() -> None:
    sd1 = _pipe_with_vae(latent_channels=4, scaling_factor=0.18215, block_out_channels=[128, 256, 512, 512])
    projection = _approx_projection(sd1, "auto")
    assert projection.source == "sd15" and projection.matrix == SD15_LATENT_RGB_FACTORS


def test_other_vaes_get_a_fitted_projection_that_predicts_unseen_decodes(tiny_model: LoadedModel) -> None:
    projection = fit_approx_projection(tiny_model.pipe, seed=0)
    assert projection.source == "fit"
    # Held-out latents (another seed): the projection must beat predicting each channel's mean colour.
    latents = torch.randn((4, 4, 8, 8), generator=torch.Generator().manual_seed(1))
    vae = tiny_model.pipe.vae
    with torch.no_grad():
        decoded = vae.decode(latents / vae.config.scaling_factor, return_dict=False)[0]
    target = torch.nn.functional.avg_pool2d(decoded, kernel_size=8).permute(0, 2, 3, 1).reshape(-1, 3)
    predicted = latents.permute(0, 2, 3, 1).reshape(-1, 4) @ torch.tensor(projection.matrix) + torch.tensor(
        projection.bias
    )
    fitted_rmse = float((predicted - target).pow(2).mean().sqrt())
    constant_rmse = float((target - target.mean(dim=0)).pow(2).mean().sqrt())
    assert fitted_rmse < constant_rmse, (fitted_rmse, constant_rmse)
