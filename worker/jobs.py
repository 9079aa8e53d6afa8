"""Where rq jobs queued by earlier versions find their function: they name `worker.jobs.run_comparison`.

New jobs name `worker.rq_job.run_comparison` (`service.queue.JOB_FUNCTION`); this alias lets jobs that were already
queued when a deployment upgraded still run (README, "Workers").
"""

from worker.rq_job import run_comparison

__all__ = ["run_comparison"]
