"""End-to-end tests: the API, workers and storage as real processes (`tests/harness.py`)."""
