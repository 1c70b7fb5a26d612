"""PostgreSQL's word that a table answers are kept from has changed: LISTEN edge_facts.

Migration 020 makes every table the edge snapshot reads (teams, staff, shifts, rota
entries, departures, clients, carers) notify the `edge_facts` channel when a statement
changes it, and migration 021 the escalation policies; the notice reaches the listener when
the change commits. The web edge's RotaCache (docs/decisions/034) and the worker's ReadMemo
(projections/read_memo.py, docs/decisions/044) answer from memory only while this listener
is connected and nothing has been announced since their answer's read began. Losing the
connection counts as a change: whatever changed while nobody listened was missed, so the
next answer comes from PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

import asyncpg
import structlog

from dispatch.ingress.outage_spool import DATABASE_DOWN
from dispatch.settings import Settings
from projections.edge_snapshot import EDGE_FACTS_CHANNEL as CHANNEL
from projections.replay_schema import LIVE

log = structlog.get_logger(__name__)


def listener(settings: Settings) -> Callable[[], Awaitable[asyncpg.Connection]] | None:
    """How to open a connection of its own to LISTEN on (never one of a pool's: a pooled
    connection must not keep session state), within EDGE_DB_TIMEOUT_S and at least 1 s;
    None without a DATABASE_URL (asyncpg would take libpq's defaults: another database)."""
    if not settings.database_url:
        return None
    timeout = max(settings.edge_db_timeout_s, 1)
    return partial(asyncpg.connect, settings.database_url, timeout=timeout)


class RotaChanges:
    """A connection of its own LISTENing on `edge_facts`; `seen` counts the changes."""

    def __init__(
        self, connect: Callable[[], Awaitable[asyncpg.Connection]], on_change: Callable[[], None]
    ) -> None:
        self._connect = connect
        self._on_change = on_change
        self._conn: asyncpg.Connection | None = None
        self.seen = 0  # changes announced, and connections made or lost (each may hide some)
        self._warned = False

    @property
    def listening(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def listen(self) -> bool:
        """Connect and LISTEN unless already listening; True when listening."""
        if self.listening:
            return True
        try:  # whatever the failure, the edge routes on by asking PostgreSQL
            conn = await self._connect()
        except Exception as exc:
            self._warn_once(exc)
            return False
        try:
            await conn.add_listener(CHANNEL, self._notified)
        except Exception as exc:
            conn.terminate()
            self._warn_once(exc)
            return False
        conn.add_termination_listener(self._lost)
        self._conn, self._warned = conn, False
        self._changed()
        log.info("rota_changes_listening", channel=CHANNEL)
        return True

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            conn.remove_termination_listener(self._lost)
            try:
                await conn.close(timeout=2.0)
            except (*DATABASE_DOWN, asyncpg.PostgresError):
                conn.terminate()

    def _notified(self, conn: object, pid: int, channel: str, payload: str) -> None:
        if payload == LIVE:  # a replay's shadow tables notify too: they are not live yet
            self._changed()

    def _lost(self, conn: object) -> None:
        if conn is self._conn:
            self._conn = None
            log.warning("rota_changes_connection_lost", channel=CHANNEL)
            self._changed()

    def _changed(self) -> None:
        self.seen += 1
        self._on_change()

    def _warn_once(self, exc: BaseException) -> None:
        if not self._warned:
            self._warned = True
            log.warning("rota_changes_not_listening", error=type(exc).__name__)
