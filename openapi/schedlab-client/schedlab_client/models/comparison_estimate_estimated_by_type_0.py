from enum import StrEnum

class ComparisonEstimateEstimatedByType0(StrEnum):
    COST_MODEL = "cost_model"
    THROUGHPUT = "throughput"

    def __str__(self) -> str:
        return str(self.value)
