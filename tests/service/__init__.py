"""Tests of the API side: contract, routes, job store, lifecycle, against the real Redis."""
