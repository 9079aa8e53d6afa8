"""A real `schedlab worker` whose engine fails on demand, to test failure paths on CPU.

A prompt containing CUDA-OOM raises torch.cuda.OutOfMemoryError; one containing CRASH raises RuntimeError.
"""

import sys

import torch

from service.cli import app
from worker.engine import ComparisonEngine

_run = ComparisonEngine.run


def _faulty_run(self, spec, *args, **kwargs):  # type: ignore[no-untyped-def]
    if "CUDA-OOM" in spec.prompt:
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB (injected by the test)")
    if "CRASH" in spec.prompt:
        raise RuntimeError("injected model error")
    return _run(self, spec, *args, **kwargs)


ComparisonEngine.run = _faulty_run  # type: ignore[method-assign]

if __name__ == "__main__":
    app(["worker", *sys.argv[1:]])
