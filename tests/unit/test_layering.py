"""The seams hold: domain areas read through their own ports, never the read models or the
web edge; only integrations/twilio speaks Twilio."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_AREAS = (
    "clients", "crisis", "escalation", "events", "ingress", "interop", "paging", "replies",
    "review", "risk", "rota", "team",
)  # fmt: skip
EDGES = ("projections", "dispatch.web", "dispatch.stack", "dispatch.worker", "dispatch.bootstrap")


def imported_modules(path: Path) -> Iterator[str]:
    """Every module a file imports, at any depth (inside functions and TYPE_CHECKING too)."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_domain_areas_import_no_read_models_and_no_edges() -> None:
    """No module of a domain area imports projections, the web edge, the stack or the worker."""
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for area in DOMAIN_AREAS
        for path in sorted((ROOT / "dispatch" / area).glob("*.py"))
        for module in imported_modules(path)
        if module.startswith(EDGES)
    ]
    assert offenders == []


def test_only_the_twilio_integration_imports_the_sdk() -> None:
    """The twilio SDK is imported in integrations/twilio and nowhere else."""
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for top in ("dispatch", "projections", "integrations")
        for path in sorted((ROOT / top).rglob("*.py"))
        if "integrations/twilio" not in path.as_posix()
        for module in imported_modules(path)
        if module == "twilio" or module.startswith("twilio.")
    ]
    assert offenders == []
