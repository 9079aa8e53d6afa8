"""The demo model's world: procedurally drawn shapes (`shapes`), a torch-free checker (`checker`).

`scripts/train_demo_model.py` trains a tiny Stable Diffusion pipeline on `shapes`; the weights live in
`models/shapes-sd/`. Both modules here import only numpy and PIL.
"""

from __future__ import annotations

from pathlib import Path

DEMO_MODEL_ID = "schedlab/shapes-sd"
DEMO_MODEL_VERSION = "2"
# The committed weights, relative to the repository root.
DEMO_MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "shapes-sd"
