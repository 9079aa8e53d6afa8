"""Tests of the GPU side on tiny models: registry, engine exactness, lock-step, sweeps, the rq job."""
