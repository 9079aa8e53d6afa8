from enum import StrEnum

class Decoder(StrEnum):
    APPROX = "approx"
    VAE = "vae"

    def __str__(self) -> str:
        return str(self.value)
