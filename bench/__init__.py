"""Benchmarks: `python -m bench [--quick]` (or `dispatch bench`) prints each figure by its ceiling."""
