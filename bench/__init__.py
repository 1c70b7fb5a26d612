"""Benchmarks: `python -m bench [--quick]` prints each figure beside its ceiling."""
