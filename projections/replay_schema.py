"""The shadow schema a replay rebuilds the read models in, and the swap that puts them live.

The shadow `replay_<n>` is made by running the packaged migrations with `search_path` set to
it alone, so its tables, indexes and constraints carry the very names and column order of
the live ones in `public` (a later migration naming an index finds it; a cached statement
sees the same row type). Only the read models are swapped; the archive, the projector's
offsets and the operational tables stay where they are (docs/decisions/020).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence

import asyncpg

from projections.migrations import packaged

# Every table the projection handlers write: folds of the archive, rebuilt by a replay.
READ_MODEL_TABLES: tuple[str, ...] = (
    "teams",
    "staff",
    "shifts",
    "staff_departures",
    "rota_entries",
    "escalation_policies",
    "clients",
    "carers",
    "carer_consents",
    "carer_assessments",
    "referrals",
    "care_plans",
    "client_risk",
    "risk_changes",
    "relapse_signals",
    "client_contacts",
    "relapse_plans",
    "outreach_tasks",
    "follow_ups",
    "hospital_stays",
    "missed_contact_alerts",
    "plan_review_alerts",
    "client_contact_targets",
    "dispatches",
    "pages",
    "staff_replies",
)
# Tables that are not folds of the archive: never rebuilt, never swapped.
OPERATIONAL_TABLES: tuple[str, ...] = (
    "event_archive",  # the source of a replay itself
    "projection_offsets",  # the projector's position, kept: it matches the archive
    "dead_letters",
    "ingress_spool",
    "page_ledger",
    "worker_heartbeats",
    "schema_migrations",
    "page_callbacks",  # written by the web edge, not folded from events
    "console_accounts",  # written by the web edge, not folded from events
    "console_sessions",  # written by the web edge, not folded from events
    "console_login_failures",  # written by the web edge, not folded from events
    "console_sign_in_codes",  # written by the web edge, not folded from events
)
LIVE = "public"
_SHADOW = re.compile(r"replay_([0-9]+)")


def quoted(name: str) -> str:
    """A schema or table name of ours, quoted (refusing anything that is not one)."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"not a schema or table name: {name!r}")
    return f'"{name}"'


async def next_shadow_name(conn: asyncpg.Connection) -> str:
    """replay_<n>, n one more than any replay schema there is (or was left behind)."""
    names = await conn.fetch("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'replay\\_%'")
    numbers = [int(m.group(1)) for r in names if (m := _SHADOW.fullmatch(r["nspname"]))]
    return f"replay_{max(numbers, default=0) + 1}"


async def create_shadow(conn: asyncpg.Connection) -> str:
    """Create replay_<n> holding empty copies of every table, made by the migrations."""
    async with conn.transaction():
        name = await next_shadow_name(conn)
        await conn.execute(f"CREATE SCHEMA {quoted(name)}")
        await conn.execute(f"SET LOCAL search_path TO {quoted(name)}")
        for migration in packaged():
            await conn.execute(migration.sql)
        await autovacuum(conn, name, enabled=False)
    return name


async def autovacuum(conn: asyncpg.Connection, schema: str, *, enabled: bool) -> None:
    """Autovacuum off on the shadow's read models while they are filled (analyze() gives the
    planner its statistics): an autovacuum still working on a freshly filled table when the
    swap moves it would hold the swap, and the projector waiting behind it, until it gives
    way (deadlock_timeout). On again once the tables are live."""
    for table in READ_MODEL_TABLES:
        option = "RESET (autovacuum_enabled)" if enabled else "SET (autovacuum_enabled = false)"
        await conn.execute(f"ALTER TABLE {quoted(schema)}.{quoted(table)} {option}")


async def use_shadow(conn: asyncpg.Connection, shadow: str) -> None:
    """Point the connection's unqualified names at the shadow alone: every handler then
    writes (and reads) the shadow's tables and functions, never the live ones."""
    await conn.execute(f"SET search_path TO {quoted(shadow)}")


async def analyze(conns: Sequence[asyncpg.Connection], shadow: str) -> None:
    """Planner statistics for the rebuilt tables before they go live, the tables shared out
    among the connections given (each takes the next table left when it is done)."""
    left = list(READ_MODEL_TABLES)

    async def take_turns(conn: asyncpg.Connection) -> None:
        while left:
            await conn.execute(f"ANALYZE {quoted(shadow)}.{quoted(left.pop(0))}")

    # every connection done before any failure is raised: none is left busy
    results = await asyncio.gather(*(take_turns(conn) for conn in conns), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def swap_tables(conn: asyncpg.Connection, shadow: str) -> str:
    """Move the live read models out to replaced_<n> and the shadow's in (call inside the
    transaction that holds the archive lock); returns where the old tables now are."""
    retired = shadow.replace("replay_", "replaced_", 1)
    await conn.execute(f"CREATE SCHEMA {quoted(retired)}")
    for table in READ_MODEL_TABLES:
        t = quoted(table)
        await conn.execute(f"ALTER TABLE {quoted(LIVE)}.{t} SET SCHEMA {quoted(retired)}")
        await conn.execute(f"ALTER TABLE {quoted(shadow)}.{t} SET SCHEMA {quoted(LIVE)}")
    return retired


async def drop_schema(conn: asyncpg.Connection, schema: str) -> None:
    if not (_SHADOW.fullmatch(schema) or re.fullmatch(r"replaced_[0-9]+", schema)):
        raise ValueError(f"not a replay schema: {schema!r}")
    await conn.execute(f"DROP SCHEMA IF EXISTS {quoted(schema)} CASCADE")
