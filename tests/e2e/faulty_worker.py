"""A real `schedlab worker` whose engine fails on demand, to test failure paths on CPU.

A prompt containing CUDA-OOM raises torch.cuda.OutOfMemoryError; one containing CRASH raises RuntimeError;
one containing UNET-OOM makes every UNet forward pass of that job raise CUDA's out-of-memory error, so the batched
runner's own halving and retry run for real.
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
    if "UNET-OOM" in spec.prompt:
        unet = self.model.pipe.unet

        def out_of_memory(*_args, **_kwargs):  # type: ignore[no-untyped-def]
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 9.00 GiB (injected)")

        unet.forward = out_of_memory
        try:
            return _run(self, spec, *args, **kwargs)
        finally:
            del unet.forward  # the class's own forward again
    return _run(self, spec, *args, **kwargs)


ComparisonEngine.run = _faulty_run  # type: ignore[method-assign]

if __name__ == "__main__":
    app(["worker", *sys.argv[1:]])
