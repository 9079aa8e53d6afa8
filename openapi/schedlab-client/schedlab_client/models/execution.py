from enum import StrEnum

class Execution(StrEnum):
    BATCHED = "batched"
    SEQUENTIAL = "sequential"

    def __str__(self) -> str:
        return str(self.value)
