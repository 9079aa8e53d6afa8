"""Benchmarks: side-by-side measurements that print ratios and commit their figures under docs/data/."""
