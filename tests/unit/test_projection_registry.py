"""Projection plumbing without a database: the newer-wins statement and the handler registry."""

from __future__ import annotations

import asyncpg
import pytest

from dispatch.crisis.events import CrisisCallReceived, DispatchOpened
from dispatch.events import Envelope
from projections.handlers import ReadModelRegistry, handler_table, on
from projections.upsert import newer_wins_sql


def test_newer_wins_statement_overwrites_only_from_a_newer_event() -> None:
    """A row is overwritten only by an event newer than its last writer; keys stay put."""
    sql = newer_wins_sql("carers", ("client_id", "carer_id", "phone"), ("client_id", "carer_id"),
                         ("updated_at", "updated_by_event"))  # fmt: skip
    assert sql == (
        'INSERT INTO "carers" AS cur ("client_id", "carer_id", "phone", "updated_at", '
        '"updated_by_event") VALUES ($1, $2, $3, $4, $5) ON CONFLICT ("client_id", "carer_id") '
        'DO UPDATE SET "phone" = EXCLUDED."phone", "updated_at" = EXCLUDED."updated_at", '
        '"updated_by_event" = EXCLUDED."updated_by_event" WHERE (cur."updated_at", '
        'cur."updated_by_event") < (EXCLUDED."updated_at", EXCLUDED."updated_by_event")'
    )


@pytest.mark.parametrize(
    ("table", "columns", "keys", "problem"),
    [
        ("teams; DROP TABLE staff", ("team_id", "name"), ("team_id",), "not a table or column"),
        ("teams", ('name" = 1 --', "team_id"), ("team_id",), "not a table or column"),
        ("Teams", ("team_id", "name"), ("team_id",), "not a table or column"),
        ("teams", ("team_id", "name"), ("client_id",), "key columns"),
        ("teams", ("team_id", "name"), (), "key columns"),
        ("teams", ("team_id", "updated_at"), ("team_id",), "named twice"),
    ],
)
def test_newer_wins_statement_refuses_odd_names(
    table: str, columns: tuple[str, ...], keys: tuple[str, ...], problem: str
) -> None:
    """Only plain lower-case names, keys among the columns and no stamp twice make SQL."""
    with pytest.raises(ValueError, match=problem):
        newer_wins_sql(table, columns, keys, ("updated_at", "updated_by_event"))


async def _opened(conn: asyncpg.Connection, e: Envelope, p: DispatchOpened) -> None:
    """A stand-in handler (never called here)."""


def test_an_event_type_handled_twice_is_refused() -> None:
    """Two read models cannot both claim one event type: assembly fails naming it."""
    table = handler_table(on(DispatchOpened, _opened))
    with pytest.raises(ValueError, match="DispatchOpened"):
        ReadModelRegistry.assemble(tables=(table, table))


def test_an_event_both_handled_and_archive_only_is_refused() -> None:
    """An event type is either folded into a read model or kept in the archive only."""
    table = handler_table(on(DispatchOpened, _opened))
    with pytest.raises(ValueError, match="DispatchOpened"):
        ReadModelRegistry.assemble(tables=(table,), archive_only=({DispatchOpened},))
    registry = ReadModelRegistry.assemble(tables=(table,), archive_only=({CrisisCallReceived},))
    assert registry.handler(DispatchOpened) is _opened
    assert registry.handler(CrisisCallReceived) is None
