"""Many events' handler statements in few round trips: recorded, then run in waves.

Every projection handler only issues statements (`conn.execute`) whose arguments come from
the event, never from a row it read back, and every statement's first parameter is the key
of the rows it writes or reads (a team, staff member, client, dispatch, page or event id).
So a batch's handlers can run against a `Recorder` first, and the recorded statements be
sent in waves of equal SQL, each with one `executemany` (one round trip): a statement goes
in a wave after every earlier statement with the same first parameter, so the statements of
one key keep their order, and no wave holds two statements of one key.
Statements of different keys may run in another order than one by one: the effects are
per-key folds (projections.project), and a cross-key constraint refusing the new order
(a work phone passed from a leaver to a joiner in one batch) makes the caller apply the
batch one event at a time instead, as before.
"""

from __future__ import annotations

from collections import defaultdict, deque
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


def rounds(statements: Sequence[Statement]) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """The statements as (sql, argument rows) groups to send in turn, each group one
    executemany: a statement is ready once every earlier statement of its key is in an
    earlier group; the next group is the SQL with the most ready statements, all of them."""
    queues: dict[Any, deque[Statement]] = defaultdict(deque)
    for sql, args in statements:
        queues[args[0] if args else sql].append((sql, args))
    ready: dict[str, list[Any]] = defaultdict(list)
    for key, queue in queues.items():
        ready[queue[0][0]].append(key)
    out: list[tuple[str, list[tuple[Any, ...]]]] = []
    while ready:
        sql = max(ready, key=lambda s: len(ready[s]))
        group: list[tuple[Any, ...]] = []
        for key in ready.pop(sql):
            queue = queues[key]
            group.append(queue.popleft()[1])
            if queue:
                ready[queue[0][0]].append(key)
        out.append((sql, group))
    return out


async def run_waves(conn: asyncpg.Connection, statements: Sequence[Statement]) -> None:
    """Run the recorded statements on `conn` (inside the caller's transaction)."""
    for sql, rows in rounds(statements):
        if len(rows) == 1:
            await conn.execute(sql, *rows[0])
        else:
            await conn.executemany(sql, rows)
