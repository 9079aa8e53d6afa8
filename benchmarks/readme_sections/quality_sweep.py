"""README section: scheduler quality on the demo model (benchmarks/quality_sweep.py)."""

from __future__ import annotations

from typing import Any

# The targets (#14), checked here against the data, never tuned.
TARGET_COLOUR = 0.9
TARGET_SHAPE = 0.8
EXEMPT = {"ddim_class_defaults"}  # reproduces DDIM's broken class defaults (clip_sample=True) on purpose
FAST_AT_20 = ("dpmpp_2m", "unipc", "deis")


def converged_at(rows: list[dict[str, Any]], threshold: float) -> int | None:
    """The first step count from which the median image stays within `threshold` of the reference."""
    first: int | None = None
    for row in sorted(rows, key=lambda r: r["steps"]):
        first = (first or row["steps"]) if row["rmse_px_median"] <= threshold else None
    return first


def _pct(value: float) -> str:
    return f"{100 * value:.0f}"


def render(data: dict[str, Any]) -> str:
    main, steps = data["main_steps"], data["steps"]
    guidance = data["guidance"][0]
    other = data["guidance"][1:]
    rows = data["rows"]
    schedulers = list(dict.fromkeys(row["scheduler"] for row in rows))
    cell = {(r["scheduler"], r["guidance"], r["steps"]): r for r in rows}
    any_row = rows[0]
    model = data["model"]
    lines = [
        f"`{data['environment']['command']}` on `{model.get('id', model['path'])}` version {model.get('version', '?')}"
        f" (CPU, torch {data['environment']['versions']['torch']}, diffusers "
        f"{data['environment']['versions']['diffusers']}): every available registry entry, {data['images_main']}"
        f" images at {main} steps ({data['prompts']} different prompts; image i from seed i), {data['images_other']}"
        f" at {', '.join(str(s) for s in steps if s != main)} steps; the checker's chance level is colour"
        f" {_pct(any_row['colour_chance'])} %, shape {_pct(any_row['shape_chance'])} % (at {main} steps; it"
        f" depends only on the prompts). Colour and shape in %; RMSE: median pixel distance to the same image by"
        f" DPM++ 2M x {data['reference']['steps']}; converged: the first step count from which it stays"
        f" ≤ {data['converged_rmse']}.",
        "",
        f"| scheduler | colour % at {', '.join(map(str, steps))} steps (guidance {guidance:g}) | shape % at {main} | "
        + " | ".join(f"colour / shape % at {main}, guidance {g:g}" for g in other)
        + f" | NFE at {main} | RMSE at 20 | converged |",
        "|---|---|---|" + "---|" * len(other) + "---|---|---|",
    ]
    for name in schedulers:
        at = {s: cell.get((name, guidance, s)) for s in steps}
        main_row = at[main]
        if main_row is None:
            continue
        colours = " / ".join(_pct(at[s]["colour_match"]) if at[s] else "-" for s in steps)
        others = [cell.get((name, g, main)) for g in other]
        other_cols = " | ".join(f"{_pct(r['colour_match'])} / {_pct(r['shape_match'])}" if r else "-" for r in others)
        done = converged_at([r for r in at.values() if r], data["converged_rmse"])
        rmse20 = f"{at[20]['rmse_px_median']:.3f}" if at.get(20) else "-"
        lines.append(
            f"| {main_row['name']} | {colours} | {_pct(main_row['shape_match'])} | "
            + (other_cols + " | " if other else "")
            + f"{main_row['nfe']} | {rmse20} | {done or 'no'} |"
        )
    lines.append("")
    judged = [cell[(n, guidance, main)] for n in schedulers if n not in EXEMPT and (n, guidance, main) in cell]
    below = [
        f"{r['name']} ({_pct(r['colour_match'])} / {_pct(r['shape_match'])})"
        for r in judged
        if r["colour_match"] < TARGET_COLOUR or r["shape_match"] < TARGET_SHAPE
    ]
    lines.append(
        f"- Target: at {main} steps, guidance {guidance:g}, every scheduler but `ddim_class_defaults` ≥"
        f" {_pct(TARGET_COLOUR)} % colour and ≥ {_pct(TARGET_SHAPE)} % shape: "
        + ("**met**." if not below else f"**not met** by {len(below)} of {len(judged)}: {', '.join(below)}.")
    )
    fast = [cell.get((n, guidance, 20)) for n in FAST_AT_20]
    fast_text = ", ".join(f"{r['name']} {_pct(r['colour_match'])} %" for r in fast if r)
    fast_met = all(r and r["colour_match"] >= TARGET_COLOUR for r in fast)
    lines.append(
        f"- Target: at 20 steps DPM++ 2M, UniPC and DEIS ≥ {_pct(TARGET_COLOUR)} % colour: "
        f"**{'met' if fast_met else 'not met'}** ({fast_text})."
    )
    order = sorted(
        schedulers,
        key=lambda n: (
            converged_at([cell[(n, guidance, s)] for s in steps if (n, guidance, s) in cell], data["converged_rmse"])
            or 10**6,
            cell[(n, guidance, min(steps))]["rmse_px_median"] if (n, guidance, min(steps)) in cell else 1.0,
        ),
    )
    names = {r["scheduler"]: r["name"] for r in rows}
    lines.append(
        f"- Convergence order (first converged step count, then RMSE at {min(steps)} steps): "
        + " < ".join(names[n] for n in order)
        + "."
    )
    return "\n".join(lines) + "\n"
