#!/usr/bin/env python3
"""Install into a local virtual environment and run: `python3 dev.py demo` or `python3 dev.py test`.

`test` runs ruff, mypy and pytest (arguments go to pytest); with no arguments, then a short
soak (`dispatch soak --minutes 0.5 --rate 2`), which fails the run if a call is lost or doubled.

Needs only Python 3.11+ and pip. The venv lives in .venv; it is reinstalled when
pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed-pyproject-sha256"
# Advisories `pip-audit` may ignore: id -> why it cannot be fixed yet (and when to look
# again). Keep it empty unless a dependency has no fixed release; README "Security checks".
AUDIT_IGNORES: dict[str, str] = {}


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


def audit() -> None:
    """Fail on a known vulnerability in any installed package (pip-audit, PyPI's advisories)."""
    ignores = [arg for vuln in AUDIT_IGNORES for arg in ("--ignore-vuln", vuln)]
    cmd = [str(BIN / "pip-audit"), "--skip-editable", "--progress-spinner", "off", "--format",
           "json", *ignores]  # fmt: skip
    print("+", " ".join(cmd), flush=True)
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    try:
        found = json.loads(result.stdout)["dependencies"]
    except (ValueError, KeyError):
        sys.exit(f"pip-audit did not run ({result.returncode}): {result.stderr.strip()[-2000:]}")
    vulnerable = [(d, v) for d in found for v in d.get("vulns", [])]
    for dep, vuln in vulnerable:
        fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed release"
        print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in: {fixed})")
    looked_up = [d for d in found if "skip_reason" not in d]
    print(f"pip-audit: {len(looked_up)} of {len(found)} packages looked up, "
          f"{len(vulnerable)} known vulnerabilities, {len(AUDIT_IGNORES)} ignored")  # fmt: skip
    skipped = [
        d["skip_reason"] for d in found if d["name"] != "act-dispatch" and d not in looked_up
    ]
    if skipped:  # e.g. a private index whose releases pypi.org does not know
        print(f"pip-audit: not looked up: {len(skipped)}, e.g. {skipped[0]}")
    if vulnerable or result.returncode not in (0, 1):
        sys.exit(1)


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
        audit()
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
