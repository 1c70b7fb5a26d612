"""Domain areas read through their own ports, never the read models or the web edge."""

from __future__ import annotations

import ast
from pathlib import Path

DISPATCH = Path(__file__).resolve().parents[2] / "dispatch"
AREAS = ("clients", "crisis", "escalation", "paging", "risk", "rota")
# Edges that wire an area to the outside (HTTP, command line, faust) pass the
# implementations in; they may import projections.
EDGES = {"api.py", "cli.py", "openapi.py", "agent.py"}
# Known and owned elsewhere: the notifier names the Dispatch read model in a type hint.
KNOWN = {"paging/notifier.py"}
FORBIDDEN = ("projections", "dispatch.web", "dispatch.worker", "dispatch.stack")


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_domain_modules_do_not_import_read_models_or_the_web_edge() -> None:
    """A change to a read model or to the web edge cannot change a domain decision."""
    offenders = {
        f"{path.parent.name}/{path.name}": sorted(
            m for m in imported(path) if any(m == f or m.startswith(f"{f}.") for f in FORBIDDEN)
        )
        for area in AREAS
        for path in sorted((DISPATCH / area).glob("*.py"))
        if path.name not in EDGES
    }
    assert {k: v for k, v in offenders.items() if v and k not in KNOWN} == {}
