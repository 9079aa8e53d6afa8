"""Prometheus metrics, read from Redis at scrape time, so every API replica reports the same numbers."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.registry import Collector

from service.contract import JobStatus
from service.job_store import JobStore
from service.queue import ComparisonQueue
from service.workers import WorkerRegistry


class SchedlabCollector(Collector):
    def __init__(self, store: JobStore, workers: WorkerRegistry, queue: ComparisonQueue) -> None:
        self.store = store
        self.workers = workers
        self.queue = queue

    def collect(self) -> Iterator[Metric]:
        stats = self.store.stats()
        yield GaugeMetricFamily("schedlab_queue_depth", "Jobs waiting in the queue.", value=self.queue.depth())
        yield GaugeMetricFamily("schedlab_workers", "Workers with a live heartbeat.", value=len(self.workers.workers()))
        current = GaugeMetricFamily("schedlab_jobs", "Jobs queued or running now.", labels=["status"])
        ended = CounterMetricFamily("schedlab_jobs_finished", "Jobs that ended, by final status.", labels=["status"])
        duration = SummaryMetricFamily(
            "schedlab_job_duration_seconds", "Time from start to end of a job, by final status.", labels=["status"]
        )
        for status in JobStatus:
            count = max(0.0, stats.get(f"jobs_{status.value}", 0.0))
            if status.is_terminal:
                ended.add_metric([status.value], count)
                duration.add_metric(
                    [status.value],
                    count_value=int(stats.get(f"duration_count_{status.value}", 0)),
                    sum_value=stats.get(f"duration_seconds_sum_{status.value}", 0.0),
                )
            else:
                current.add_metric([status.value], count)
        yield current
        yield ended
        yield duration
        calls = stats.get("unet_calls_total", 0.0)
        seconds = stats.get("unet_seconds_total", 0.0)
        yield CounterMetricFamily("schedlab_unet_calls", "UNet calls made by finished jobs.", value=calls)
        yield CounterMetricFamily("schedlab_unet_seconds", "Scheduler run time of finished jobs.", value=seconds)
        yield GaugeMetricFamily(
            "schedlab_unet_evals_per_second",
            "UNet calls per second of scheduler run time, over all finished jobs.",
            value=calls / seconds if seconds else 0.0,
        )
