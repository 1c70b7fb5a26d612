"""Many events' handler statements in few round trips: recorded, then run in waves.

Every projection handler only issues statements (`conn.execute`) whose arguments come from
the event, never from a row it read back, and every statement's first parameter is the key
of the rows it writes or reads (a team, staff member, client, dispatch, page or event id).
So a batch's handlers can run against a `Recorder` first, and the recorded statements be
run in waves: a statement goes one wave after the previous statement with the same first
parameter, so the statements of one key keep their order; within a wave no two statements
share a key and each group of equal SQL is sent with one `executemany` (one round trip).
Statements of different keys may run in another order than one by one: the effects are
per-key folds (projections.project), and a cross-key constraint refusing the new order
(a work phone passed from a leaver to a joiner in one batch) makes the caller apply the
batch one event at a time instead, as before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg

from dispatch.events import Envelope
from projections.handlers import ReadModelRegistry

Statement = tuple[str, tuple[Any, ...]]


class Recorder:
    """Stands in for the connection a handler is given: keeps the statements it issues."""

    def __init__(self) -> None:
        self.statements: list[Statement] = []

    async def execute(self, sql: str, *args: Any) -> str:
        self.statements.append((sql, args))
        return ""


async def record(read_models: ReadModelRegistry, events: Iterable[Envelope]) -> list[Statement]:
    """The statements the handlers of `events` issue, in order."""
    recorder = Recorder()
    conn: Any = recorder  # handlers are typed for an asyncpg connection; they only execute
    for event in events:
        handler = read_models.handler(type(event.payload))
        if handler is not None:
            await handler(conn, event, event.payload)
    return recorder.statements


def waves(statements: Sequence[Statement]) -> list[dict[str, list[tuple[Any, ...]]]]:
    """The statements in waves, each wave's grouped by SQL (see the module's doc)."""
    last: dict[Any, int] = {}
    out: list[dict[str, list[tuple[Any, ...]]]] = []
    for sql, args in statements:
        key = args[0] if args else sql
        wave = last.get(key, -1) + 1
        last[key] = wave
        if wave == len(out):
            out.append(defaultdict(list))
        out[wave][sql].append(args)
    return out


async def run_waves(conn: asyncpg.Connection, statements: Sequence[Statement]) -> None:
    """Run the recorded statements on `conn` (inside the caller's transaction)."""
    for wave in waves(statements):
        for sql, rows in wave.items():
            if len(rows) == 1:
                await conn.execute(sql, *rows[0])
            else:
                await conn.executemany(sql, rows)
