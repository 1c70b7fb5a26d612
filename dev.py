#!/usr/bin/env python3
"""Install into a local virtual environment and run: `python3 dev.py demo` or `python3 dev.py test`.

`test` runs ruff, mypy and pytest (arguments go to pytest); with no arguments, then a short
soak (`dispatch soak --minutes 0.5 --rate 2`), which fails the run if a call is lost or doubled.

Needs only Python 3.11+ and pip. The venv lives in .venv; it is reinstalled when
pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed-pyproject-sha256"


def run(*cmd: str | Path) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], cwd=ROOT, check=True)


def ensure_installed() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - runs on whatever python3 the user has
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}")
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest and (BIN / "dispatch").exists():
        return
    if not (BIN / "python").exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", ".[test]")
    STAMP.write_text(digest)


def main() -> None:
    what = sys.argv[1] if len(sys.argv) > 1 else "help"
    rest = sys.argv[2:]
    if what == "demo":
        ensure_installed()
        run(BIN / "dispatch", "demo", *rest)
    elif what == "test":
        ensure_installed()
        run(BIN / "ruff", "check", ".")
        run(BIN / "ruff", "format", "--check", ".")
        run(BIN / "mypy")
        run(BIN / "pytest", *(rest or ["-q"]))
        if not rest:  # the whole suite: then a short soak, judged by its exit code
            run(BIN / "dispatch", "soak", "--minutes", "0.5", "--rate", "2", "--settle", "60")
    elif what == "install":
        ensure_installed()
    else:
        print(__doc__)
        sys.exit(0 if what == "help" else 2)


if __name__ == "__main__":
    try:
        main()
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)
