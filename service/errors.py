"""One error base; only the HTTP layer maps these to status codes."""

from __future__ import annotations


class SchedlabError(Exception):
    """Base of every error schedlab raises on purpose."""


class SpecError(SchedlabError, ValueError):
    """A comparison spec breaks a rule or a limit. Raised before any model work."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class UnknownSchedulerError(SpecError):
    """A scheduler name that is neither a registry id, class name, alias nor preset."""


class JobNotFoundError(SchedlabError):
    """No job with that id (or not one the caller may see)."""


class JobStateError(SchedlabError):
    """The job is in a state that does not allow the operation (e.g. cancel a finished job)."""


class QueueFullError(SchedlabError):
    """The queue holds as many jobs as it may; try again later."""

    def __init__(self, depth: int, retry_after_s: int) -> None:
        super().__init__(f"the queue is full ({depth} jobs waiting); retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class StorageError(SchedlabError):
    """Object storage failed or does not hold the key."""
