"""schedlab: compare Stable Diffusion schedulers side by side.

The `service` package is the torch-free half: the HTTP API, the contract it shares with the worker, the job
store, the queue and object storage. It must never import torch or diffusers.
"""

__version__ = "0.1.0"
