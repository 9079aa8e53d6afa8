"""The `schedlab` command. Worker-side commands import torch lazily, so `schedlab api` stays torch-free."""

from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from service.contract import (
    SPEC_DEFAULTS,
    Capture,
    Catalog,
    ComparisonSpec,
    Decoder,
    Execution,
    FrameKind,
    Limits,
    StorageLayout,
    SweepAnswer,
    check_spec,
    load_catalog,
    normalize_name,
    progress_plan,
)
from service.errors import SpecError
from service.estimate import ComparisonEstimate
from service.settings import Settings

T = TypeVar("T")

app = typer.Typer(help="Compare Stable Diffusion schedulers side by side.", no_args_is_help=True)
console = Console(stderr=True)
# Piped output (scripts, CI logs) gets full-width tables instead of rich's 80-column default.
stdout = Console(width=None if sys.stdout.isatty() else 200)


# The spec options `compare` and `submit` share: declared once, turned into a spec by `_spec` alone. Sweep axes
# (steps, seed, guidance scale): unset, the spec's default applies (SPEC_DEFAULTS); repeated, a sweep axis.
_AXIS_HELP = "Default {}; repeat for a sweep axis."
PromptOption = Annotated[str, typer.Option(help="What to draw.")]
SchedulerOption = Annotated[list[str], typer.Option(help="A registry name, alias or preset; repeat; 'all'.")]
NegativePromptOption = Annotated[str | None, typer.Option()]
StepsOption = Annotated[list[int] | None, typer.Option(help=_AXIS_HELP.format(SPEC_DEFAULTS["steps"]))]
ImagesOption = Annotated[int, typer.Option(help="Images per scheduler; image i uses seed + i.")]
SeedOption = Annotated[list[int] | None, typer.Option(help=_AXIS_HELP.format(SPEC_DEFAULTS["seed"]))]
GuidanceOption = Annotated[list[float] | None, typer.Option(help=_AXIS_HELP.format(SPEC_DEFAULTS["guidance_scale"]))]
ReferenceSchedulerOption = Annotated[str | None, typer.Option(help="Sweeps: the reference (default dpmpp_2m).")]
ReferenceStepsOption = Annotated[int | None, typer.Option(help="Sweeps: the reference's steps (default 100).")]
PixelsOption = Annotated[int | None, typer.Option(help="A multiple of 8; default: the model's own size.")]
CaptureEveryOption = Annotated[
    int | None, typer.Option(help="Capture a frame every N steps; default: every ceil(steps / 6), as the API.")
]
CaptureStepOption = Annotated[list[int] | None, typer.Option(help="Capture at this step; repeat.")]
FramesOption = Annotated[FrameKind, typer.Option()]
DecoderOption = Annotated[Decoder, typer.Option()]
ExecutionOption = Annotated[
    Execution, typer.Option(help="batched: one UNet batch per step for all schedulers; sequential: one by one.")
]
ConfigOption = Annotated[list[str] | None, typer.Option(help="Config override for every scheduler, KEY=JSON; repeat.")]


@dataclass(frozen=True)
class SpecOptions:
    """The spec options `compare` and `submit` share, as given on the command line; `spec` is the one way they
    become a spec."""

    prompt: str
    scheduler: list[str]
    negative_prompt: str | None
    steps: list[int] | None
    images: int
    seed: list[int] | None
    guidance_scale: list[float] | None
    reference_scheduler: str | None
    reference_steps: int | None
    height: int | None
    width: int | None
    capture_every: int | None
    capture_step: list[int] | None
    frames: FrameKind
    decoder: Decoder
    execution: Execution
    config: list[str] | None

    @classmethod
    def of(cls, arguments: dict[str, Any]) -> SpecOptions:
        """The options among a command's arguments (its `locals()` on entry)."""
        return cls(**{option.name: arguments[option.name] for option in dataclasses.fields(cls)})

    def spec(self, catalog: Catalog, model: str | None = None) -> ComparisonSpec:
        """'all' means every scheduler `catalog` has available; `config` overrides apply to every scheduler.
        A bad value exits with code 2, naming the field."""
        overrides = {}
        for item in self.config or []:
            key, _, value = item.partition("=")
            try:
                overrides[key] = json.loads(value)
            except json.JSONDecodeError:
                overrides[key] = value
        choices = catalog.expand(self.scheduler)
        for choice in choices:
            choice.config.update(overrides)
        reference = {"scheduler": self.reference_scheduler, "steps": self.reference_steps}
        try:
            return ComparisonSpec(
                model=model,
                prompt=self.prompt,
                negative_prompt=self.negative_prompt,
                seed=_axis(self.seed, "seed"),
                num_images=self.images,
                steps=_axis(self.steps, "steps"),
                guidance_scale=_axis(self.guidance_scale, "guidance_scale"),
                height=self.height,
                width=self.width,
                schedulers=choices,
                capture=Capture(steps=self.capture_step) if self.capture_step else _capture_every(self.capture_every),
                frames=self.frames,
                decoder=self.decoder,
                reference={key: value for key, value in reference.items() if value is not None} or None,
                execution=self.execution,
            )
        except (SpecError, ValueError) as error:
            raise _fail(str(error)) from error


def _capture_every(every: int | None) -> Capture | None:
    """None leaves the capture to the spec's default, the same for the CLI and the API."""
    return None if every is None else Capture(every=every)


def _axis(values: list[T] | None, field: str) -> Any:
    """A repeated option is a sweep axis; given once, a single value (today's job and layout); unset, the spec's
    default (SPEC_DEFAULTS), as for the API."""
    if not values:
        return SPEC_DEFAULTS[field]
    return values[0] if len(values) == 1 else values


def _print_estimate(estimate: ComparisonEstimate) -> None:
    cost = estimate.cost
    stdout.print(
        f"{cost.cells} cells x {estimate.schedulers} schedulers = {cost.runs} runs"
        + (" (reference runs included)" if estimate.reference else "")
    )
    stdout.print(
        f"UNet evaluations (image x UNet calls): {cost.unet_evaluations} (reference: {cost.reference_evaluations})"
    )
    if estimate.estimated_seconds is None:
        stdout.print(f"estimated duration: unknown (no live worker of {estimate.model} has measured its throughput)")
    elif estimate.work is not None:
        work = estimate.work
        stdout.print(
            f"estimated duration: {estimate.estimated_seconds:.1f} s for {work.unet_calls} UNet calls of "
            f"{work.unet_samples} samples in all and {work.decoded_images} decoded images, {work.execution.value} "
            f"(the median cost model of the workers of {estimate.model})"
        )
    else:
        stdout.print(
            f"estimated duration: {estimate.estimated_seconds:.1f} s at {estimate.evals_per_s:g} evaluations/s "
            f"(median of {estimate.workers_measured} workers of {estimate.model})"
        )
    table = Table("cell", "steps", "guidance", "seed")
    for index, cell in enumerate(estimate.cells):
        table.add_row(str(index + 1), str(cell.steps), f"{cell.guidance_scale:g}", str(cell.seed))
    stdout.print(table)


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
    prompt: PromptOption,
    scheduler: SchedulerOption,
    out: Annotated[Path, typer.Option(help="Folder for images, grids, contact sheet and manifest.")],
    negative_prompt: NegativePromptOption = SPEC_DEFAULTS["negative_prompt"],
    steps: StepsOption = None,
    images: ImagesOption = SPEC_DEFAULTS["num_images"],
    seed: SeedOption = None,
    guidance_scale: GuidanceOption = None,
    reference_scheduler: ReferenceSchedulerOption = None,
    reference_steps: ReferenceStepsOption = None,
    dry_run: Annotated[
        bool, typer.Option(help="Print cells, UNet evaluations and the estimated duration; run nothing.")
    ] = False,
    height: PixelsOption = SPEC_DEFAULTS["height"],
    width: PixelsOption = SPEC_DEFAULTS["width"],
    capture_every: CaptureEveryOption = None,
    capture_step: CaptureStepOption = None,
    frames: FramesOption = SPEC_DEFAULTS["frames"],
    decoder: DecoderOption = SPEC_DEFAULTS["decoder"],
    execution: ExecutionOption = SPEC_DEFAULTS["execution"],
    config: ConfigOption = None,
    model: Annotated[
        str | None,
        typer.Option(help="Overrides SCHEDLAB_MODEL: demo, tiny, tiny-sdxl, tiny-sd2-v, tiny-sd3, tiny-flux, …"),
    ] = None,
    device: Annotated[str | None, typer.Option(help="Overrides SCHEDLAB_DEVICE.")] = None,
) -> None:
    """Run a comparison in-process (no Redis) and write its files under --out."""
    options = SpecOptions.of(locals())
    from tqdm import tqdm

    from service.storage import LocalStorage

    spec = options.spec(load_catalog())

    settings = Settings()
    updates = {key: value for key, value in (("model", model), ("device", device)) if value is not None}
    settings = settings.model_copy(update=updates)
    from worker.engine import ComparisonEngine
    from worker.model import catalog_before_load, load_model
    from worker.scheduler_run import RunListener

    limits = Limits.from_settings(settings)
    try:
        check_spec(spec, limits)  # before the model loads: bad input costs nothing
        # Then what this model can run, from its configs alone ('all' means every one of those).
        model_catalog = catalog_before_load(settings)
        if any(normalize_name(name) == "all" for name in scheduler):
            spec = options.spec(model_catalog)
        spec = model_catalog.for_spec(spec)
        check_spec(spec, limits, model_catalog)
    except SpecError as error:
        raise _fail(str(error)) from error
    if dry_run:
        _print_estimate(_estimate_from_workers(spec, settings, model_catalog))
        return

    console.print(f"loading model {settings.model} …")
    engine = ComparisonEngine(load_model(settings), limits, settings.max_batch)
    done = {p.scheduler_index: 0 for p in progress_plan(spec)}
    bar = tqdm(total=sum(p.steps_total for p in progress_plan(spec)), unit="step", file=sys.stderr)

    class Progress(RunListener):
        def on_progress(
            self, scheduler_index: int, scheduler: str, steps_done: int, steps_total: int, **details: Any
        ) -> None:
            done[scheduler_index] = steps_done
            bar.set_description(scheduler, refresh=False)
            bar.update(sum(done.values()) - bar.n)

    try:
        outcome = engine.run(spec, LocalStorage(out), StorageLayout(""), listener=Progress())
    except SpecError as error:
        raise _fail(str(error)) from error
    finally:
        bar.close()
    table = Table("scheduler", "cell", "wall s", "UNet calls", "emerged at step", "grid")
    for result in outcome.results:
        cell = result.cell
        table.add_row(
            result.name,
            f"{cell.steps} steps, cfg {cell.guidance_scale:g}, seed {cell.seed}" if cell else "-",
            f"{result.timings.wall_s:.2f}",
            str(result.timings.unet_calls),
            str(result.emergence_step),
            str(out / result.grid) if result.grid else "-",
        )
    stdout.print(table)
    if outcome.sweep is not None:
        _print_sweep(outcome.sweep, out)
    else:
        console.print(f"contact sheet: {out / outcome.keys.contact_sheet}")
    console.print(f"manifest: {out / outcome.keys.manifest}")


def _estimate_from_workers(spec: ComparisonSpec, settings: Settings, catalog: Catalog) -> ComparisonEstimate:
    """Price the spec with the cost models of the workers (in SCHEDLAB_REDIS_URL) serving its model."""
    from redis import Redis
    from redis.exceptions import RedisError

    from service.estimate import estimate
    from service.workers import WorkerRegistry

    try:
        redis = Redis.from_url(settings.redis_url, decode_responses=True)
        workers = WorkerRegistry(redis, settings.key_prefix).workers()
    except RedisError as error:
        console.print(f"[yellow]no worker throughput: Redis unreachable ({error})[/yellow]")
        workers = []
    return estimate(spec, workers, settings.model, catalog)


def _print_sweep(sweep: SweepAnswer, out: Path) -> None:
    table = Table("guidance", "scheduler", "cheapest within tolerance", "NFE", "pixel RMSE to reference")
    for curve in sweep.curves:
        best = curve.cheapest_within_tolerance
        table.add_row(
            f"{curve.guidance_scale:g}",
            curve.scheduler,
            f"{best.steps} steps" if best else "never",
            str(best.nfe) if best else "-",
            f"{best.image_distance:.4f}" if best else f"{curve.points[-1].image_distance:.4f} at best",
        )
    stdout.print(table)
    ranking = Table("guidance", "budget (NFE)", "best scheduler for the budget", "steps", "pixel RMSE")
    for entry in sweep.ranking:
        if entry.ranking:
            top = entry.ranking[0]
            ranking.add_row(
                f"{entry.guidance_scale:g}",
                str(entry.budget),
                str(top["scheduler"]),
                str(top["steps"]),
                f"{top['image_distance']:.4f}",
            )
    stdout.print(ranking)
    for grid in sweep.grids:
        console.print(f"grid cfg {grid.guidance_scale:g} seed {grid.seed}: {out / grid.key}")
    if sweep.plot:
        console.print(f"error vs. NFE plot: {out / sweep.plot}\nanswer: {out / sweep.answer}")


@app.command()
def submit(
    prompt: PromptOption,
    scheduler: SchedulerOption,
    url: Annotated[str, typer.Option(envvar="SCHEDLAB_URL", help="The API's base URL.")] = "http://127.0.0.1:8000",
    api_key: Annotated[str | None, typer.Option(envvar="SCHEDLAB_API_KEY", help="Bearer key.")] = None,
    negative_prompt: NegativePromptOption = SPEC_DEFAULTS["negative_prompt"],
    steps: StepsOption = None,
    images: ImagesOption = SPEC_DEFAULTS["num_images"],
    seed: SeedOption = None,
    guidance_scale: GuidanceOption = None,
    reference_scheduler: ReferenceSchedulerOption = None,
    reference_steps: ReferenceStepsOption = None,
    dry_run: Annotated[bool, typer.Option(help="Ask the service for the cost; queue nothing.")] = False,
    height: PixelsOption = SPEC_DEFAULTS["height"],
    width: PixelsOption = SPEC_DEFAULTS["width"],
    capture_every: CaptureEveryOption = None,
    capture_step: CaptureStepOption = None,
    frames: FramesOption = SPEC_DEFAULTS["frames"],
    decoder: DecoderOption = SPEC_DEFAULTS["decoder"],
    execution: ExecutionOption = SPEC_DEFAULTS["execution"],
    config: ConfigOption = None,
    wait: Annotated[bool, typer.Option(help="Wait for the job, showing progress.")] = False,
    out: Annotated[Path | None, typer.Option(help="With --wait: download grids, images and manifest here.")] = None,
    model: Annotated[
        str | None, typer.Option(help="A served model (GET /v1/models); default: the deployment's.")
    ] = None,
) -> None:
    """Submit a comparison to a running service through the generated client; optionally wait and download."""
    spec = SpecOptions.of(locals()).spec(load_catalog(), model)
    from service.submit import submit_comparison

    body = spec.model_dump(mode="json", exclude_none=True)  # unset: the service's defaults
    if dry_run:
        from service.submit import estimate_comparison

        estimate = estimate_comparison(url, api_key, body, console=console)
        if estimate is None:
            raise typer.Exit(1)
        _print_estimate(estimate)
        return
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
    from worker.serve import run_worker

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
