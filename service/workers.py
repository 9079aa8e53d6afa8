"""What workers publish about themselves in Redis: a heartbeat each (who is alive, what it runs, how fast), and the
catalog of each model they serve (what the API checks that model's specs against)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from pydantic import BaseModel, Field
from redis import Redis

from service.contract import Catalog, CostModel
from service.errors import SpecError
from service.redis_keys import RedisKeys


class WorkerInfo(BaseModel):
    """What a live worker publishes with each heartbeat."""

    name: str
    model: dict[str, Any]
    schedulers: list[str]
    serves: str | None = None  # the model name specs use (its SCHEDLAB_MODEL); it takes jobs from that queue
    pid: int
    host: str
    started_at: datetime
    current_job: str | None = None
    jobs_done: int = 0
    evals_per_s: float | None = Field(
        None, description="Image x UNet evaluations per second measured over warm-up and jobs (whole runs)."
    )
    cost_model: CostModel | None = Field(
        None, description="Seconds per UNet call, per sample and per decoded image, fitted to its warm-up and jobs."
    )


class WorkerRegistry:
    """Live workers (a key each, expiring unless its heartbeat renews it) and served models' catalogs."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.keys = RedisKeys(prefix)
        self._catalogs: dict[str, tuple[str, Catalog]] = {}  # model -> (stored JSON, parsed): parse once

    # -- workers -----------------------------------------------------------------------------------------------
    def heartbeat(self, info: WorkerInfo, ttl_s: float) -> None:
        self.redis.set(self.keys.worker(info.name), info.model_dump_json(), px=int(ttl_s * 1000))

    def forget(self, name: str) -> None:
        self.redis.delete(self.keys.worker(name))

    def alive(self, name: str) -> bool:
        return bool(self.redis.exists(self.keys.worker(name)))

    def workers(self) -> list[WorkerInfo]:
        keys = list(self.redis.scan_iter(match=self.keys.worker("*"), count=100))
        values = cast(list[str | None], self.redis.mget(keys)) if keys else []
        return [WorkerInfo.model_validate_json(value) for value in values if value]

    # -- served models -----------------------------------------------------------------------------------------
    def register_model(self, catalog: Catalog, ttl_s: float) -> None:
        """A worker's model and what it can run; the API validates specs for that model against it."""
        assert catalog.model is not None
        self.redis.set(self.keys.model(catalog.model.name), catalog.model_dump_json(), px=int(ttl_s * 1000))

    def refresh_model(self, name: str, ttl_s: float) -> None:
        self.redis.pexpire(self.keys.model(name), int(ttl_s * 1000))

    def model_catalog(self, name: str) -> Catalog | None:
        """The catalog the workers of model `name` registered, or None when none did (or it expired)."""
        raw = cast(str | None, self.redis.get(self.keys.model(name)))
        if raw is None:
            return None
        cached = self._catalogs.get(name)
        if cached is None or cached[0] != raw:
            cached = (raw, Catalog.model_validate_json(raw))
            self._catalogs[name] = cached
        return cached[1]

    def served_catalog(self, name: str, field: str = "model") -> Catalog:
        """The catalog of a served model; a `SpecError` on `field` listing the served models when none is."""
        catalog = self.model_catalog(name)
        if catalog is None:
            served = ", ".join(self.registered_models()) or "none"
            raise SpecError(field, f"no worker serves model {name!r}; served models: {served}")
        return catalog

    def registered_models(self) -> list[str]:
        prefix = self.keys.model("")
        return sorted(key.removeprefix(prefix) for key in self.redis.scan_iter(match=self.keys.model("*"), count=100))
