"""How far two runs' final images agree, as the benchmarks that compare execution paths report it."""

from __future__ import annotations

import numpy as np
from PIL import Image


class FinalAgreement:
    """How far two sets of final images agree: all identical, or the share of pixels within one level."""

    def __init__(self) -> None:
        self.identical = True
        self.within_one_level = 0
        self.pixels = 0
        self.max_levels = 0

    def add(self, ours: Image.Image, theirs: Image.Image) -> None:
        a = np.asarray(ours.convert("RGB")).astype(np.int16)
        b = np.asarray(theirs.convert("RGB")).astype(np.int16)
        difference = np.abs(a - b)
        self.identical &= bool(np.array_equal(a, b))
        self.within_one_level += int((difference <= 1).sum())
        self.pixels += difference.size
        self.max_levels = max(self.max_levels, int(difference.max()))

    @property
    def share_within_one_level(self) -> float:
        return self.within_one_level / max(self.pixels, 1)

    def record(self) -> dict[str, object]:
        return {
            "final_images_identical": self.identical,
            "final_pixels_within_1_level": round(self.share_within_one_level, 6),
            "final_pixels_max_level_difference": self.max_levels,
        }

    def describe(self) -> str:
        if self.identical:
            return "identical"
        share = 100 * self.share_within_one_level
        return f"not identical: {share:.4f} % of pixels within one level, at most {self.max_levels} levels apart"
