"""What a replay rebuilds: every table is either a read model (rebuilt, swapped, compared) or
operational (left alone); the migrations can build a shadow schema; differences are named."""

from __future__ import annotations

import re
from pathlib import Path

from projections.migrations import packaged
from projections.replay_check import RowDifference, TableDiff, describe
from projections.replay_schema import OPERATIONAL_TABLES, READ_MODEL_TABLES
from projections.replay_tables import DISPATCH, PAGE

ROOT = Path(__file__).resolve().parents[2]
HANDLER_MODULES = ("roster", "rota", "clients", "risk", "dispatches", "paging", "escalation",
                   "replies")  # fmt: skip


def created_tables() -> set[str]:
    return {
        name
        for m in packaged()
        for name in re.findall(r"CREATE TABLE(?: IF NOT EXISTS)? (\w+)", m.sql)
    }


def test_every_table_is_either_a_read_model_or_operational() -> None:
    """A new table must be classified before a replay can run: rebuilt, or left alone."""
    assert set(READ_MODEL_TABLES).isdisjoint(OPERATIONAL_TABLES)
    assert created_tables() | {"schema_migrations"} == set(READ_MODEL_TABLES) | set(
        OPERATIONAL_TABLES
    )


def test_projection_handlers_write_read_models_only() -> None:
    """Every table a handler inserts into, updates or upserts is rebuilt by the replay."""
    written: set[str] = set()
    for module in HANDLER_MODULES:
        source = (ROOT / "projections" / f"{module}.py").read_text()
        written |= set(re.findall(r"(?:INSERT INTO|(?<!DO )UPDATE) (\w+)", source))
        written |= set(re.findall(r'upsert_newer\(\s*conn,\s*"(\w+)"', source))
    assert written
    assert written <= set(READ_MODEL_TABLES)


def test_the_folds_positions_are_the_tables_columns() -> None:
    """The crisis folds keep rows as lists and name columns by position
    (projections/replay_fold_crisis.py): those positions are the columns' own."""
    assert [DISPATCH.index(c) for c in ("status", "opened_at", "acknowledged_at",
            "acknowledged_by", "resolved_at", "resolved_by", "outcome", "correlation_id",
            "source_event_id", "escalation_sequence", "escalated_at", "exhausted")] == [
        8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]  # fmt: skip
    assert DISPATCH[1:8] == ("short_code", "team_id", "client_id", "caller_kind", "reason",
                             "risk_level", "assigned_staff_id")  # fmt: skip
    assert PAGE == ("notification_id", "dispatch_id", "step", "attempt", "channel",
                    "staff_id", "requested_at", "status", "provider_sid", "failure_reason",
                    "updated_at")  # fmt: skip


def test_migrations_name_no_schema() -> None:
    """The shadow is made by running the migrations with search_path set to it: none of them
    may name a schema or change the search_path."""
    for m in packaged():
        assert not re.search(r"\bpublic\.|search_path", m.sql, re.IGNORECASE), m.version


def test_a_difference_names_the_row_and_hides_phone_numbers() -> None:
    """A changed row is named by its key with each differing column; a row on one side only
    says which; a phone number is never printed."""
    diff = TableDiff(
        table="clients",
        live_rows=3,
        rebuilt_rows=3,
        differing=3,
        rows=(
            RowDifference(key={"client_id": "c-1"},
                          live={"client_id": "c-1", "status": "discharged", "phone": "+15550001"},
                          rebuilt={"client_id": "c-1", "status": "enrolled", "phone": "+15550002"}),
            RowDifference(key={"client_id": "c-9"}, live=None, rebuilt={"client_id": "c-9"}),
        ),
    )  # fmt: skip
    assert describe(diff) == [
        "clients: 3 row(s) differ (live 3 rows, rebuilt 3)",
        '  client_id=c-1: status live "discharged" rebuilt "enrolled"; '
        "phone live (hidden) rebuilt (hidden)",
        "  client_id=c-9: only in the rebuilt table",
    ]
