"""Benchmarks: `python -m bench [--quick]` (or `dispatch bench`) prints every figure."""
