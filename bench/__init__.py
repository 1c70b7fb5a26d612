"""Benchmarks: `python -m bench [--quick]` (or `dispatch bench`): each figure by its ceiling."""
