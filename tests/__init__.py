"""schedlab's tests: `service/` and `worker/` mirror the packages; `e2e/` runs real processes."""
