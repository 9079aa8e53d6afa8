"""The whole service vs. the original notebook's loop: the same comparison, end to end.

(a) notebook: the experiment's bare-diffusers loop (`notebook()` from engine_vs_notebook.py), in this process,
    on the tiny model, torch on 1 thread.
(b) service:  `schedlab api` + one `schedlab worker` (tiny model, 1 torch thread, warmed up, local file storage)
    as subprocesses; the comparison is POSTed over loopback HTTP and GET /v1/comparisons/{id} is polled every
    50 ms; the time runs from the POST to the first poll that sees a terminal status.

Same spec for both: the experiment's nine schedulers, 4 images, 30 steps, a frame every 5 steps. Starting the
stack and loading the model are not timed (the service is long-lived). Runs are interleaved, alternating which
side goes first, and medians are compared. Prints both medians, the ratio b/a (target <= 1.10), where the
service's time went (queue wait, run, until the poll saw it) and whether the final images are identical.
Also prints CPU seconds of each side (worker, API and polling client vs. the notebook) and how long each side
waited for a CPU: on a busy machine the CPU ratio says more than the wall-time ratio.
Exits 1 only if something breaks (a job fails, or the images differ); never on time.

    python benchmarks/service_vs_notebook.py [--repeats 3] [--steps 30] [--images 4] [--every 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stack import Stack, cpu_seconds, hard_limit, runqueue_wait_s
from engine_vs_notebook import EXPERIMENT, experiment_spec, notebook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for `benchmarks.results`
from benchmarks.agreement import FinalAgreement
from benchmarks.results import write_result
from service.contract import StorageLayout
from service.settings import Settings
from worker.engine import ComparisonEngine
from worker.model import load_model

TERMINAL = {"succeeded", "failed", "canceled"}


def run_service(client: httpx.Client, body: dict[str, Any], poll_s: float, timeout_s: float) -> dict[str, Any]:
    """POST, then poll until terminal; returns the last job body with the measured wall time added."""
    started = time.perf_counter()
    response = client.post("/v1/comparisons", json=body)
    if response.status_code != 202:
        raise RuntimeError(f"POST /v1/comparisons answered {response.status_code}: {response.text}")
    job_id = response.json()["id"]
    polls = 0
    while True:
        time.sleep(poll_s)
        job = client.get(f"/v1/comparisons/{job_id}").json()
        polls += 1
        if job["status"] in TERMINAL:
            job["_wall_s"] = time.perf_counter() - started
            job["_polls"] = polls
            return job
        if time.perf_counter() - started > timeout_s:
            raise RuntimeError(f"job {job_id} still {job['status']} after {timeout_s:.0f} s")


def _seconds(job: dict[str, Any], start: str, end: str) -> float:
    return (datetime.fromisoformat(str(job[end])) - datetime.fromisoformat(str(job[start]))).total_seconds()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--poll-ms", type=float, default=50)
    parser.add_argument("--job-timeout", type=float, default=600, help="Give up on one job after this (s).")
    parser.add_argument("--hard-limit", type=float, default=1800, help="The whole script stops after this (s).")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/data/ as it is")
    args = parser.parse_args()

    with hard_limit(args.hard_limit):
        # (a) in this process: the model loads once, the notebook loop reuses it; 1 torch thread like the worker.
        settings = Settings(model="tiny", torch_threads=1)
        torch.set_num_threads(1)
        engine = ComparisonEngine(load_model(settings))
        spec = experiment_spec(args.steps, args.images, args.every)
        body = spec.model_dump(mode="json", exclude_none=True)

        wall: dict[str, list[float]] = {"notebook": [], "service": []}
        # CPU seconds per run: the notebook (this process); the worker, the API and this process (polling).
        cpu: dict[str, list[float]] = {"notebook": [], "worker": [], "api": [], "poller": []}
        # Seconds runnable but waiting for a CPU: how much the machine's other work held each side back.
        waited: dict[str, list[float]] = {"notebook": [], "worker": []}
        phases: dict[str, list[float]] = {"queued": [], "running": [], "seen": [], "loops": []}
        agreement = FinalAgreement()
        failures: list[str] = []
        # (b) the stack, on the same (already built) tiny model
        with Stack(model_cache_dir=Path(settings.model_cache_dir)) as stack:
            try:
                stack.start_api()
                stack.start_worker("w1")
                assert stack.api is not None
                api_pid, worker_pid, own_pid = stack.api.popen.pid, stack.workers[0].popen.pid, os.getpid()
                with httpx.Client(base_url=stack.base_url, timeout=30) as client:
                    for repeat in range(args.repeats):
                        order = ["notebook", "service"] if repeat % 2 == 0 else ["service", "notebook"]
                        finals: dict[str, list[Image.Image]] = {}
                        job: dict[str, Any] = {}
                        for side in order:
                            own_cpu, own_wait = time.process_time(), runqueue_wait_s(own_pid)
                            if side == "notebook":
                                with tempfile.TemporaryDirectory() as folder:
                                    started = time.perf_counter()
                                    finals = notebook(engine, spec, Path(folder) / "a")
                                    wall["notebook"].append(time.perf_counter() - started)
                                cpu["notebook"].append(time.process_time() - own_cpu)
                                waited["notebook"].append(runqueue_wait_s(own_pid) - own_wait)
                            else:
                                worker_cpu, worker_wait = cpu_seconds(worker_pid), runqueue_wait_s(worker_pid)
                                api_cpu = cpu_seconds(api_pid)
                                job = run_service(client, body, args.poll_ms / 1000, args.job_timeout)
                                wall["service"].append(float(job["_wall_s"]))
                                cpu["worker"].append(cpu_seconds(worker_pid) - worker_cpu)
                                cpu["api"].append(cpu_seconds(api_pid) - api_cpu)
                                cpu["poller"].append(time.process_time() - own_cpu)
                                waited["worker"].append(runqueue_wait_s(worker_pid) - worker_wait)
                        if job["status"] != "succeeded":
                            failures.append(f"job {job['id']} {job['status']}: {job.get('error')}")
                            continue
                        phases["queued"].append(_seconds(job, "created_at", "started_at"))
                        phases["running"].append(_seconds(job, "started_at", "finished_at"))
                        phases["seen"].append(job["_wall_s"] - phases["queued"][-1] - phases["running"][-1])
                        phases["loops"].append(sum(result["timings"]["wall_s"] for result in job["results"]))
                        keys = StorageLayout.for_job(str(job["id"]))
                        for index, name in enumerate(EXPERIMENT):
                            for image_index, image in enumerate(finals[name]):
                                key = keys.final_image(StorageLayout.scheduler_folder(index, name), image_index)
                                agreement.add(Image.open(stack.storage_dir / key), image)
                        print(
                            f"  repeat {repeat + 1}/{args.repeats}: notebook {wall['notebook'][-1]:.3f} s "
                            f"(cpu {cpu['notebook'][-1]:.2f} s), service {wall['service'][-1]:.3f} s "
                            f"(worker cpu {cpu['worker'][-1]:.2f} s)",
                            flush=True,
                        )
            except BaseException:
                print(stack.logs(), file=sys.stderr)
                raise

    def med(values: list[float]) -> float:
        return statistics.median(values) if values else float("nan")

    def runs(values: list[float]) -> list[float]:
        return [round(value, 3) for value in values]

    a, b = med(wall["notebook"]), med(wall["service"])
    print(
        f"model=tiny device={engine.model.device} torch threads=1 schedulers={len(EXPERIMENT)} images={args.images} "
        f"steps={args.steps} capture every {args.every} repeats={args.repeats} poll every {args.poll_ms:g} ms"
    )
    print(f"(a) notebook loop, in-process        median {a:8.3f} s   runs {runs(wall['notebook'])}")
    print(f"(b) service, POST -> poll succeeded  median {b:8.3f} s   runs {runs(wall['service'])}")
    print(
        f"    (b) = queued {med(phases['queued']) * 1000:.0f} ms + running on the worker "
        f"{med(phases['running']):.3f} s (its scheduler loops {med(phases['loops']):.3f} s) "
        f"+ until a poll saw it {med(phases['seen']) * 1000:.0f} ms"
    )
    print(f"ratio b/a = {b / a:.3f}   (target <= 1.10)")
    notebook_cpu, worker_cpu = med(cpu["notebook"]), med(cpu["worker"])
    service_cpu = med([w + x + p for w, x, p in zip(cpu["worker"], cpu["api"], cpu["poller"], strict=True)])
    print(
        f"CPU seconds (medians): notebook {notebook_cpu:.3f}; service: worker {worker_cpu:.3f} + API "
        f"{med(cpu['api']):.3f} + polling client {med(cpu['poller']):.3f}"
    )
    print(
        f"CPU ratios: worker/notebook = {worker_cpu / notebook_cpu:.3f}, whole service/notebook = "
        f"{service_cpu / notebook_cpu:.3f}   (less sensitive to other load on the machine than wall time)"
    )
    busy = med(waited["notebook"]) > 0.05 * a or med(waited["worker"]) > 0.05 * b
    print(
        f"waiting for a CPU (runnable, not running; medians): notebook {med(waited['notebook']):.2f} s, "
        f"worker {med(waited['worker']):.2f} s"
        + ("   (the machine is busy: wall times are noisy, the CPU ratios less so)" if busy else "")
    )
    print(f"final images ({spec.execution.value} vs notebook): {agreement.describe()}")
    if not args.no_write:
        setup = {
            "model": "tiny",
            "torch_threads": 1,
            "schedulers": EXPERIMENT,
            "images": args.images,
            "execution": spec.execution.value,
        }
        path = write_result(
            "service_vs_notebook",
            {
                "setup": {
                    **setup,
                    "steps": args.steps,
                    "every": args.every,
                    "repeats": args.repeats,
                    "poll_ms": args.poll_ms,
                    "target": "ratio <= 1.10",
                },
                "notebook_s": {"median": round(a, 3), "runs": runs(wall["notebook"])},
                "service_s": {"median": round(b, 3), "runs": runs(wall["service"])},
                "ratio": round(b / a, 3),
                "service_phases": {
                    "queued_ms": round(med(phases["queued"]) * 1000),
                    "running_s": round(med(phases["running"]), 3),
                    "seen_after_ms": round(med(phases["seen"]) * 1000),
                },
                "cpu_s": {
                    "notebook": round(notebook_cpu, 3),
                    "worker": round(worker_cpu, 3),
                    "api": round(med(cpu["api"]), 3),
                    "poller": round(med(cpu["poller"]), 3),
                },
                "cpu_ratio_worker_over_notebook": round(worker_cpu / notebook_cpu, 3),
                "waited_for_cpu_s": {
                    "notebook": round(med(waited["notebook"]), 2),
                    "worker": round(med(waited["worker"]), 2),
                },
                "machine_busy": bool(busy),
                **agreement.record(),
                "failures": failures,
            },
        )
        print(f"wrote {path}; render the README with `python benchmarks/results.py`")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
