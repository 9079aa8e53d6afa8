"""README section: the fitted latent -> RGB projection per tiny family model (benchmarks/preview_fit.py)."""

from __future__ import annotations

from typing import Any


def render(data: dict[str, Any]) -> str:
    environment = data["environment"]
    lines = [
        f"Fitted at load on seeded random latents (at least {data['latent_pixels']} latent pixels), checked on as "
        "many of another seed; "
        f"RMSE in the decoder's [-1, 1] range (`{environment['command']}`, diffusers "
        f"{environment['versions']['diffusers']}). The tiny models' weights are random, so these figures show the "
        "fit works per latent format, not how a real model's previews look: a random VAE is barely linear, and the "
        "projection beats a constant colour by only a few per cent here.",
        "",
        "| model | family | latent channels | fit RMSE | held-out RMSE | held-out RMSE of a constant colour |",
        "|---|---|---|---|---|---|",
    ]
    for row in data["models"]:
        lines.append(
            f"| `{row['model']}` | {row['family']} | {row['latent_channels']} | {row['fit_rmse']:.4f} | "
            f"{row['heldout_rmse']:.4f} | {row['heldout_constant_rmse']:.4f} |"
        )
    return "\n".join(lines) + "\n"
