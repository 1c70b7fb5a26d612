"""`python3 dev.py test` stops on a known vulnerability of an installed package."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def dev_script(
    tmp_path: Path, report: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> ModuleType:
    """dev.py with its pip-audit replaced by a script printing `report` as pip-audit would."""
    spec = importlib.util.spec_from_file_location("dev_script", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fake = tmp_path / "pip-audit"
    vulnerable = any(d.get("vulns") for d in report["dependencies"])
    fake.write_text(f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(report)}\nEOF\nexit {int(vulnerable)}\n")
    fake.chmod(0o755)
    monkeypatch.setattr(module, "BIN", tmp_path)
    return module


def test_a_known_vulnerability_fails_the_test_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An installed package with an advisory stops `dev.py test`, naming it and its fix."""
    report = {"dependencies": [
        {"name": "act-dispatch", "skip_reason": "distribution marked as editable"},
        {"name": "aiohttp", "version": "3.9.0", "vulns": [
            {"id": "GHSA-xxxx", "fix_versions": ["3.9.2"], "aliases": [], "description": ""}]},
    ], "fixes": []}  # fmt: skip
    with pytest.raises(SystemExit) as stopped:
        dev_script(tmp_path, report, monkeypatch).audit()
    assert stopped.value.code == 1
    assert "VULNERABLE aiohttp 3.9.0: GHSA-xxxx (fixed in: 3.9.2)" in capsys.readouterr().out


def test_a_clean_environment_passes_and_says_what_was_looked_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No advisory: the audit passes and reports how many packages it could look up."""
    report = {"dependencies": [{"name": "aiohttp", "version": "3.14.5", "vulns": []}], "fixes": []}
    dev_script(tmp_path, report, monkeypatch).audit()
    assert "1 of 1 packages looked up, 0 known vulnerabilities" in capsys.readouterr().out
