"""`python -m bench [--quick]`: bench/runner.py runs every benchmark and prints one table."""

from bench.runner import main

if __name__ == "__main__":
    raise SystemExit(main())
