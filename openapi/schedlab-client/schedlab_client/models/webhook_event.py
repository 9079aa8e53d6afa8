from enum import StrEnum

class WebhookEvent(StrEnum):
    COMPLETED = "completed"
    SCHEDULER_DONE = "scheduler_done"
    STARTED = "started"

    def __str__(self) -> str:
        return str(self.value)
