"""README section `parity`: A1111 / ComfyUI names vs. k-diffusion's reference samplers (benchmarks/parity.py)."""

from __future__ import annotations

from typing import Any

from service.contract import load_catalog


def _distance(value: float) -> str:
    return f"{value:.1e}"


def _psnr(value: float | None) -> str:
    return "identical" if value is None else f"{value:.0f} dB"


def _runs(row: dict[str, Any]) -> str:
    config = ", ".join(f"{key}={value!r}" for key, value in row["config"].items())
    return f"`{row['entry']}`" + (f" + {config}" if config else "")


def render(data: dict[str, Any]) -> str:
    tolerance = data["tolerance"]
    reasons = {entry.id: entry.differs_from_a1111 for entry in load_catalog().entries}
    demo = {row["name"]: row for row in data["models"]["demo"]}
    tiny = {row["name"]: row for row in data["models"].get("tiny", [])}
    a1111 = [row for row in data["models"]["demo"] if row["kind"] == "a1111"]
    lines = [
        f"Measured by `benchmarks/parity.py` ({data['steps']} steps, guidance {data['guidance_scale']}, seeds "
        f"{', '.join(map(str, data['seeds']))}, worst seed shown; k-diffusion {data['k_diffusion']}; "
        f"{data['environment']['measured_at'][:10]}). Distance: ‖schedlab − reference‖ / ‖reference‖ of the final "
        f"latents; a name matches at ≤ {tolerance:g} on the demo model. Max |Δσ|: the largest difference of the two "
        "sigma schedules (— where their lengths differ). Diagnosis: the demo distance again with one suspected cause "
        "removed. Re-run: `make parity` (`benchmarks/parity.py --search`, then `benchmarks/results.py`).",
        "",
        "| A1111 name | schedlab runs | max abs Δσ | distance, demo | PSNR, demo | distance, tiny | claim "
        "| diagnosis |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in a1111:
        tiny_row = tiny.get(row["name"])
        sigma = "—" if row["max_sigma_difference"] is None else f"{row['max_sigma_difference']:.1e}"
        # The reason is the catalog's (service/scheduler_catalog.json), so README and catalog say the same.
        reason = reasons[row["entry"]]
        if row["latent_distance"] > tolerance:
            claim = f"differs: {reason}"
        else:  # a known cause can stay under the tolerance on a smooth model: say so rather than hide it
            claim = "matches" if reason is None else f"within {tolerance:g} on this model, though {reason}"
        diagnosis = row.get("diagnosis")
        diagnosed = f"{diagnosis['change']}: {_distance(diagnosis['latent_distance'])}" if diagnosis else ""
        lines.append(
            f"| {row['name']} | {_runs(row)} | {sigma} | {_distance(row['latent_distance'])} | "
            f"{_psnr(row['psnr_db'])} | {_distance(tiny_row['latent_distance']) if tiny_row else '—'} | {claim} | "
            f"{diagnosed} |"
        )
    combos = [row for row in data["models"]["demo"] if row not in a1111]
    samplers = list(dict.fromkeys(row["sampler"] for row in combos))
    schedules = list(dict.fromkeys(row["schedule"] for row in combos))
    lines += [
        "",
        "ComfyUI names (`sampler schedule`), distance on the demo model (— : diffusers has no such config for it):",
        "",
        "| sampler | " + " | ".join(schedules) + " |",
        "|---|" + "---|" * len(schedules),
    ]
    for sampler in samplers:
        cells = []
        for schedule in schedules:
            row = demo.get(f"{sampler} {schedule}")
            if row is None:
                cells.append("—")
            else:
                mark = "**" if row["latent_distance"] <= tolerance else ""
                cells.append(f"{mark}{_distance(row['latent_distance'])}{mark}")
        lines.append(f"| {sampler} | " + " | ".join(cells) + " |")
    lines += ["", "Not measured (no k-diffusion reference):"]
    lines += [f"- `{row['name']}`: {row['reason']}" for row in data["unmeasured"]]
    return "\n".join(lines) + "\n"
