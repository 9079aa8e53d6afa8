"""The `schedlab` command. Worker-side commands import torch lazily, so `schedlab api` stays torch-free."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from service.contract import (
    SPEC_DEFAULTS,
    Capture,
    ComparisonSpec,
    Decoder,
    Execution,
    FrameKind,
    Keys,
    Limits,
    check_spec,
    load_catalog,
    normalize_name,
)
from service.errors import SpecError
from service.settings import Settings

app = typer.Typer(help="Compare Stable Diffusion schedulers side by side.", no_args_is_help=True)
console = Console(stderr=True)
# Piped output (scripts, CI logs) gets full-width tables instead of rich's 80-column default.
stdout = Console(width=None if sys.stdout.isatty() else 200)


_CAPTURE_EVERY_HELP = "Capture a frame every N steps; default: every ceil(steps / 6), as the API."


def _capture(every: int | None, steps: list[int] | None) -> Capture | None:
    """None leaves the capture to the spec's default, the same for the CLI and the API."""
    if steps:
        return Capture(steps=steps)
    return None if every is None else Capture(every=every)


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=2)


@app.command()
def schedulers(
    model: Annotated[
        str | None, typer.Option(help="Only what this model can run, and why not the rest (reads its configs).")
    ] = None,
) -> None:
    """List the scheduler registry: names, aliases, stochastic, order; per model with --model."""
    catalog = load_catalog()
    if model is not None:
        from worker.model import catalog_before_load

        catalog = catalog_before_load(Settings().model_copy(update={"model": model}))
    table = Table("id", "class", "names users know", "stochastic", "order", "available")
    for entry in catalog.entries:
        table.add_row(
            entry.id,
            entry.class_name,
            ", ".join([entry.display_name, *entry.aliases]),
            "yes" if entry.stochastic else "no",
            str(entry.order),
            "yes" if entry.available else f"no: {entry.unavailable_reason}",
        )
    stdout.print(table)


@app.command()
def compare(
    prompt: Annotated[str, typer.Option(help="What to draw.")],
    scheduler: Annotated[list[str], typer.Option(help="A registry name, alias or preset; repeat; 'all'.")],
    out: Annotated[Path, typer.Option(help="Folder for images, grids, contact sheet and manifest.")],
    negative_prompt: Annotated[str | None, typer.Option()] = SPEC_DEFAULTS["negative_prompt"],
    steps: Annotated[int, typer.Option()] = SPEC_DEFAULTS["steps"],
    images: Annotated[int, typer.Option(help="Images per scheduler; image i uses seed + i.")] = SPEC_DEFAULTS[
        "num_images"
    ],
    seed: Annotated[int, typer.Option()] = SPEC_DEFAULTS["seed"],
    guidance_scale: Annotated[float, typer.Option()] = SPEC_DEFAULTS["guidance_scale"],
    height: Annotated[int | None, typer.Option()] = SPEC_DEFAULTS["height"],
    width: Annotated[int | None, typer.Option()] = SPEC_DEFAULTS["width"],
    capture_every: Annotated[int | None, typer.Option(help=_CAPTURE_EVERY_HELP)] = None,
    capture_step: Annotated[list[int] | None, typer.Option(help="Capture at this step; repeat.")] = None,
    frames: Annotated[FrameKind, typer.Option()] = SPEC_DEFAULTS["frames"],
    decoder: Annotated[Decoder, typer.Option()] = SPEC_DEFAULTS["decoder"],
    execution: Annotated[
        Execution, typer.Option(help="batched: one UNet batch per step for all schedulers; sequential: one by one.")
    ] = SPEC_DEFAULTS["execution"],
    config: Annotated[
        list[str] | None, typer.Option(help="Config override for every scheduler, KEY=JSON; repeat.")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(help="Overrides SCHEDLAB_MODEL: demo, tiny, tiny-sdxl, tiny-sd2-v, tiny-sd3, tiny-flux, …"),
    ] = None,
    device: Annotated[str | None, typer.Option(help="Overrides SCHEDLAB_DEVICE.")] = None,
) -> None:
    """Run a comparison in-process (no Redis) and write its files under --out."""
    from tqdm import tqdm

    from service.storage import LocalStorage

    overrides = {}
    for item in config or []:
        key, _, value = item.partition("=")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    capture = _capture(capture_every, capture_step)
    try:
        choices = load_catalog().expand(scheduler)
        for choice in choices:
            choice.config.update(overrides)
        spec = ComparisonSpec(
            prompt=prompt,
            negative_prompt=negative_prompt,
            seed=seed,
            num_images=images,
            steps=steps,
            guidance_scale=guidance_scale,
            height=height,
            width=width,
            schedulers=choices,
            capture=capture,
            frames=frames,
            decoder=decoder,
            execution=execution,
        )
    except (SpecError, ValueError) as error:
        raise _fail(str(error)) from error

    settings = Settings()
    updates = {key: value for key, value in (("model", model), ("device", device)) if value is not None}
    settings = settings.model_copy(update=updates)
    from worker.engine import ComparisonEngine, RunListener
    from worker.model import catalog_before_load, load_model

    limits = Limits.from_settings(settings)
    try:
        check_spec(spec, limits)  # before the model loads: bad input costs nothing
        # Then what this model can run, from its configs alone ('all' means every one of those).
        model_catalog = catalog_before_load(settings)
        if any(normalize_name(name) == "all" for name in scheduler):
            choices = model_catalog.expand(scheduler)
            for choice in choices:
                choice.config.update(overrides)
            spec = spec.model_copy(update={"schedulers": choices})
        check_spec(spec, limits, model_catalog)
    except SpecError as error:
        raise _fail(str(error)) from error

    console.print(f"loading model {settings.model} …")
    engine = ComparisonEngine(load_model(settings), limits, settings.max_batch)
    bar = tqdm(total=spec.steps * len(spec.schedulers), unit="step", file=sys.stderr)

    class Progress(RunListener):
        def on_progress(
            self, scheduler_index: int, scheduler: str, steps_done: int, steps_total: int, **details: Any
        ) -> None:
            bar.set_description(scheduler, refresh=False)
            bar.update(scheduler_index * spec.steps + steps_done - bar.n)

    try:
        outcome = engine.run(spec, LocalStorage(out), Keys(""), listener=Progress())
    except SpecError as error:
        raise _fail(str(error)) from error
    finally:
        bar.close()
    table = Table("scheduler", "wall s", "UNet calls", "emerged at step", "grid")
    for result in outcome.results:
        table.add_row(
            result.name,
            f"{result.timings.wall_s:.2f}",
            str(result.timings.unet_calls),
            str(result.emergence_step),
            str(out / result.grid) if result.grid else "-",
        )
    stdout.print(table)
    console.print(f"contact sheet: {out / outcome.keys.contact_sheet}\nmanifest: {out / outcome.keys.manifest}")


@app.command()
def submit(
    prompt: Annotated[str, typer.Option(help="What to draw.")],
    scheduler: Annotated[list[str], typer.Option(help="A registry name, alias or preset; repeat; 'all'.")],
    url: Annotated[str, typer.Option(envvar="SCHEDLAB_URL", help="The API's base URL.")] = "http://127.0.0.1:8000",
    api_key: Annotated[str | None, typer.Option(envvar="SCHEDLAB_API_KEY", help="Bearer key.")] = None,
    steps: Annotated[int, typer.Option()] = SPEC_DEFAULTS["steps"],
    images: Annotated[int, typer.Option()] = SPEC_DEFAULTS["num_images"],
    seed: Annotated[int, typer.Option()] = SPEC_DEFAULTS["seed"],
    guidance_scale: Annotated[float, typer.Option()] = SPEC_DEFAULTS["guidance_scale"],
    capture_every: Annotated[int | None, typer.Option(help=_CAPTURE_EVERY_HELP)] = None,
    frames: Annotated[FrameKind, typer.Option()] = SPEC_DEFAULTS["frames"],
    decoder: Annotated[Decoder, typer.Option()] = SPEC_DEFAULTS["decoder"],
    wait: Annotated[bool, typer.Option(help="Wait for the job, showing progress.")] = False,
    out: Annotated[Path | None, typer.Option(help="With --wait: download grids, images and manifest here.")] = None,
    model: Annotated[
        str | None, typer.Option(help="A served model (GET /v1/models); default: the deployment's.")
    ] = None,
) -> None:
    """Submit a comparison to a running service through the generated client; optionally wait and download."""
    from service.submit import submit_comparison

    body = {
        "prompt": prompt,
        "steps": steps,
        "num_images": images,
        "seed": seed,
        "guidance_scale": guidance_scale,
        "schedulers": [choice.model_dump() for choice in load_catalog().expand(scheduler)],
        "capture": None if capture_every is None else {"every": capture_every},
        "frames": frames.value,
        "decoder": decoder.value,
    }
    if model is not None:
        body["model"] = model
    code = submit_comparison(url, api_key, body, wait=wait, out=out, console=console)
    raise typer.Exit(code)


@app.command()
def cleanup(
    older_than_days: Annotated[
        float | None, typer.Option(help="Overrides SCHEDLAB_RETENTION_DAYS for this run.")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="List what would go; delete nothing.")] = False,
) -> None:
    """Delete stored comparisons older than the retention setting (run it from cron or a scheduled job)."""
    from datetime import timedelta

    from service.retention import delete_comparisons, expired_comparisons
    from service.storage import storage_from_settings

    settings = Settings()
    days = settings.retention_days if older_than_days is None else older_than_days
    if days <= 0:
        raise _fail("no retention configured: set SCHEDLAB_RETENTION_DAYS or pass --older-than-days")
    storage = storage_from_settings(settings)
    expired = expired_comparisons(storage, timedelta(days=days))
    if dry_run:
        for job_id in expired:
            console.print(job_id)
        console.print(f"{len(expired)} comparisons older than {days:g} days (dry run)")
        return
    removed = delete_comparisons(storage, expired)
    console.print(f"deleted {len(expired)} comparisons ({removed} files) older than {days:g} days")


@app.command()
def catalog(
    output: Annotated[Path, typer.Option(help="Where to write the catalog.")] = Path("service/scheduler_catalog.json"),
) -> None:
    """Regenerate the torch-free scheduler catalog the API reads, from the worker's registry."""
    from worker.registry import catalog as build_catalog

    output.write_text(build_catalog().model_dump_json(indent=1) + "\n")
    console.print(f"wrote {output}")


@app.command()
def api(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes.")] = 1,
) -> None:
    """Serve the HTTP API with uvicorn (torch-free)."""
    import uvicorn

    from service.logs import configure_logging

    configure_logging(Settings().log_format)
    uvicorn.run(
        "service.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_config=None,  # keep schedlab's handler (text or JSON) for uvicorn's loggers too
    )


@app.command()
def worker(
    name: Annotated[str | None, typer.Option(help="Worker name (default: host-pid-random).")] = None,
    burst: Annotated[bool, typer.Option(help="Exit when the queue is empty.")] = False,
) -> None:
    """Load the model once and run comparison jobs from the queue."""
    from service.logs import configure_logging
    from worker.process import run_worker

    settings = Settings()
    configure_logging(settings.log_format)
    run_worker(settings, name=name, burst=burst)


@app.command()
def openapi(
    output: Annotated[Path, typer.Option(help="Where to write the document.")] = Path("openapi/openapi.json"),
) -> None:
    """Write the OpenAPI document from the app, without a server."""
    from service.api.app import openapi_document

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n")
    console.print(f"wrote {output}")
