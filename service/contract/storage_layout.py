"""Where a comparison's files go in storage: one type owns the layout of every key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from service.contract.spec import format_axis_value


@dataclass(frozen=True)
class StorageLayout:
    """Where a comparison's files go: storage keys relative to the storage root, human-readable on purpose.

    A service job's files live under `comparisons/{id}/`; a CLI run's under its output folder (`root` "").
    A scheduler run's folder is `NN-{entry id}` (under its cell's folder in a sweep).
    """

    root: str  # "" for a CLI output folder, "comparisons/{id}/" for a service job

    JOBS_ROOT: ClassVar[str] = "comparisons/"

    @classmethod
    def for_job(cls, job_id: str) -> StorageLayout:
        return cls(f"{cls.JOBS_ROOT}{job_id}/")

    @classmethod
    def job_id_of(cls, key: str) -> str:
        """The job a stored file belongs to, from its key under `JOBS_ROOT`."""
        return key.removeprefix(cls.JOBS_ROOT).split("/", 1)[0]

    @staticmethod
    def scheduler_folder(index: int, entry_id: str) -> str:
        return f"{index + 1:02d}-{entry_id}"

    def final_image(self, scheduler_folder: str, image_index: int) -> str:
        return f"{self.root}{scheduler_folder}/final/image-{image_index}.png"

    def frame(self, scheduler_folder: str, step: int, image_index: int) -> str:
        return f"{self.root}{scheduler_folder}/frames/step-{step:04d}/image-{image_index}.png"

    def grid(self, scheduler_folder: str) -> str:
        return f"{self.root}{scheduler_folder}/grid.png"

    @staticmethod
    def group_name(guidance_scale: float, seed: int) -> str:
        return f"cfg-{format_axis_value(guidance_scale)}_seed-{seed}"

    def reference_image(self, guidance_scale: float, seed: int, image_index: int) -> str:
        return f"{self.root}reference/{self.group_name(guidance_scale, seed)}/final/image-{image_index}.png"

    def sweep_grid(self, guidance_scale: float, seed: int, page: int, pages: int) -> str:
        suffix = f"-page-{page + 1}-of-{pages}" if pages > 1 else ""
        return f"{self.root}sweep/grid-{self.group_name(guidance_scale, seed)}{suffix}.png"

    @property
    def sweep_answer(self) -> str:
        return f"{self.root}sweep/answer.json"

    @property
    def sweep_plot(self) -> str:
        return f"{self.root}sweep/error-vs-nfe.png"

    def chart(self, name: str) -> str:
        return f"{self.root}charts/{name}.png"

    @property
    def contact_sheet(self) -> str:
        return f"{self.root}contact-sheet.png"

    @property
    def manifest(self) -> str:
        return f"{self.root}manifest.json"
