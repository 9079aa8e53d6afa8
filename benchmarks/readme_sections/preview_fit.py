"""README section: the fitted latent -> RGB projection per model, on latents the model draws (preview_fit.py)."""

from __future__ import annotations

from typing import Any


def render(data: dict[str, Any]) -> str:
    environment = data["environment"]
    lines = [
        f"Fitted at load on the final latents of images the model draws (at least {data['latent_pixels']} latent "
        "pixels; 8 steps of DPM-Solver++ 2M, or the model's flow solver, guidance 5), checked on as many drawn from "
        "another seed and other prompts. RMSE in the decoder's [-1, 1] range per colour channel "
        f"(`{environment['command']}`, diffusers {environment['versions']['diffusers']}). Beside it, on the same "
        "held-out images: a projection fitted on random N(0, 1) latents (what the decoder did before) and a "
        "constant colour. Only the demo model is trained; the tiny models' random VAEs are barely linear, so their "
        "rows only show that the fit works per latent format.",
        "",
        "| model | family | latent channels | fit RMSE | held-out RMSE | held-out, fit on random latents | "
        "held-out, constant colour |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in data["models"]:
        lines.append(
            f"| `{row['model']}` | {row['family']} | {row['latent_channels']} | {row['fit_rmse']:.4f} | "
            f"{row['heldout_rmse']:.4f} | {row['heldout_random_fit_rmse']:.4f} | {row['heldout_constant_rmse']:.4f} |"
        )
    return "\n".join(lines) + "\n"
