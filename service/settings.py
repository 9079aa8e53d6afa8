"""The one place schedlab reads its environment: every setting is `SCHEDLAB_<NAME>`."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from service.contract import MAX_IMAGES, MAX_STEPS, Limits

_LIMITS = Limits()  # the caps' defaults


def _default_storage_url() -> str:
    return (Path.cwd() / "var" / "storage").resolve().as_uri()


class Settings(BaseSettings):
    """Settings shared by the API, the worker and the CLI."""

    model_config = SettingsConfigDict(env_prefix="SCHEDLAB_", env_file=".env", extra="ignore")

    # Infrastructure
    redis_url: str = "redis://127.0.0.1:6379/0"
    key_prefix: str = Field("schedlab", description="Prefix of every Redis key and rq queue name.")
    storage_url: str = Field(
        default_factory=_default_storage_url,
        description="file:///abs/dir (local directory) or s3://bucket/prefix (S3-compatible object storage).",
    )
    s3_endpoint_url: str | None = Field(None, description="S3 endpoint, e.g. http://minio:9000; unset for AWS.")
    s3_region: str = "us-east-1"

    # Model (worker)
    model: str = Field(
        "demo",
        description="'demo' (the committed shapes model), 'tiny' (random, for tests), 'tiny-sdxl', 'tiny-sd2-v', "
        "'tiny-sd3', 'tiny-flux' (random, per family), a Hugging Face model id, or a local diffusers directory.",
    )
    model_revision: str | None = None
    model_cache_dir: Path = Path.home() / ".cache" / "schedlab"
    device: str = Field("auto", description="auto, cpu, cuda or cuda:N.")
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    torch_threads: int = Field(
        0, ge=0, description="CPU threads for torch; 0 = torch's default. Tiny models run fastest on 1."
    )
    compile_unet: bool = Field(
        False, description="torch.compile the UNet (or SD 3/Flux transformer); CUDA only, slow first job."
    )
    cpu_offload: bool = Field(
        False, description="enable_model_cpu_offload: components visit the GPU one at a time (CUDA; slower)."
    )
    vae_tiling: bool = Field(False, description="Decode with a tiled VAE: less GPU memory at large sizes.")
    max_batch: int = Field(
        0,
        ge=0,
        description="Most UNet samples (images x 2 with guidance) per call in batched execution; 0 = per device: "
        "on CUDA one per GiB of GPU memory at 512x512 (fewer for larger images), 64 on a CPU.",
    )
    warmup: bool = Field(True, description="Run one short comparison after loading, before taking jobs.")
    approx_decoder: Literal["auto", "sd15", "fit"] = Field(
        "auto",
        description="Latent-to-RGB projection for the 'approx' decoder: published SD 1.x factors or fitted.",
    )

    # Limits: a request over one is a 422 naming the field and the limit. Defaults: `Limits`'; bounds: the spec's.
    max_steps: int = Field(_LIMITS.max_steps, ge=1, le=MAX_STEPS)
    max_images: int = Field(_LIMITS.max_images, ge=1, le=MAX_IMAGES)
    max_schedulers: int = Field(_LIMITS.max_schedulers, ge=1)
    max_resolution: int = Field(_LIMITS.max_resolution, ge=8, description="Largest height or width, in pixels.")
    max_prompt_chars: int = Field(_LIMITS.max_prompt_chars, ge=1)
    max_unet_evals: int = Field(
        _LIMITS.max_unet_evals, ge=1, description="Cap on images x UNet calls summed over a job's schedulers."
    )
    max_cells: int = Field(
        _LIMITS.max_cells, ge=1, description="Cap on a sweep's (steps, guidance_scale, seed) combinations."
    )
    grid_max_pixels: int = Field(
        _LIMITS.grid_max_pixels, ge=250_000, description="A sweep's X/Y grid larger than this is tiled into pages."
    )
    max_queue_depth: int = Field(1000, ge=1, description="Queued jobs beyond this are refused with 429.")
    max_body_bytes: int = Field(64 * 1024, ge=1024)

    # Jobs and workers
    job_timeout_s: int = Field(3600, ge=1, description="A job running longer than this is stopped and failed.")
    job_ttl_s: int = Field(7 * 24 * 3600, ge=60, description="Finished jobs expire from Redis after this.")
    worker_heartbeat_s: float = Field(2.0, gt=0)
    worker_dead_after_s: float = Field(15.0, gt=0, description="A worker silent this long is dead.")
    events_heartbeat_s: float = Field(
        15.0, gt=0, le=300, description="An idle event stream sends a heartbeat comment this often."
    )
    events_batch_window_s: float = Field(
        0.1,
        ge=0,
        le=1,
        description="Events reach an API process's streams at most this often, in batches: one wake-up of every"
        " stream per batch, not per event, keeps status polls fast while hundreds of streams are open.",
    )

    # Security
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, description="Comma-separated API keys; empty = open (local use only)."
    )

    api_keys_file: Path | None = Field(
        None,
        description="A file of API keys, one per line: the key itself or `sha256:<hex digest>` (keys kept hashed).",
    )
    webhook_secret: SecretStr | None = Field(
        None, description="HMAC-SHA256 key that signs webhook deliveries; webhooks are refused while unset."
    )
    webhook_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated hosts, IPs or CIDRs that webhooks may reach although private or loopback.",
    )
    webhook_max_attempts: int = Field(5, ge=1, le=20)
    webhook_backoff_s: float = Field(0.5, gt=0, description="First retry delay; doubles each attempt.")

    # Operations
    log_format: Literal["text", "json"] = Field("text", description="json: one object per line, with job_id.")
    retention_days: float = Field(
        0, ge=0, description="`schedlab cleanup` deletes stored results older than this; 0 keeps them forever."
    )

    @field_validator("api_keys", "webhook_allowed_hosts", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value


def api_key_digests(settings: Settings) -> list[str]:
    """SHA-256 hex digests of every configured API key (from SCHEDLAB_API_KEYS and SCHEDLAB_API_KEYS_FILE)."""
    digests = [key_digest(key.get_secret_value()) for key in settings.api_keys]
    if settings.api_keys_file is not None:
        for line in settings.api_keys_file.read_text().splitlines():
            entry = line.strip()
            if not entry or entry.startswith("#"):
                continue
            digests.append(entry.removeprefix("sha256:") if entry.startswith("sha256:") else key_digest(entry))
    return digests


def key_digest(key: str) -> str:
    """How API keys are compared and kept: the SHA-256 hex digest."""
    return hashlib.sha256(key.encode()).hexdigest()


@lru_cache
def get_settings() -> Settings:
    return Settings()
