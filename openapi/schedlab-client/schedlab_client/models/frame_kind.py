from enum import StrEnum

class FrameKind(StrEnum):
    DENOISED = "denoised"
    LATENT = "latent"

    def __str__(self) -> str:
        return str(self.value)
