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

from projections.edge_snapshot import EDGE_FACTS_CHANNEL
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
# Functions the read models' triggers call: they move with the tables in a swap, so that
# dropping the shadow or the retired schema never drops a live table's trigger with them.
READ_MODEL_FUNCTIONS: tuple[str, ...] = ("edge_facts_changed()",)
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


async def defer_indexes(conn: asyncpg.Connection, shadow: str, tables: Sequence[str]) -> list[str]:
    """Drop the shadow's indexes on `tables` that back no constraint (a primary key or unique
    index stays), to be built again by `build_indexes` once the tables are filled: one sort
    per index instead of an insertion per row (a GIN index's above all). Returns their
    definitions, as PostgreSQL gives them, naming the table with its schema."""
    async with conn.transaction():
        await conn.execute("SET LOCAL search_path TO pg_catalog")  # names come qualified
        found = await conn.fetch(
            """SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
               FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                    JOIN pg_class t ON t.oid = i.indrelid
                    JOIN pg_namespace n ON n.oid = t.relnamespace
               WHERE n.nspname = $1 AND t.relname = ANY($2::text[])
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
               ORDER BY c.relname""",
            shadow,
            list(tables),
        )
        definitions = []
        for index in found:
            definition: str = index["definition"]
            if f" ON {shadow}." not in definition and f' ON "{shadow}".' not in definition:
                raise ValueError(f"an index definition outside {shadow}: {definition}")
            await conn.execute(f"DROP INDEX {quoted(shadow)}.{quoted(index['name'])}")
            definitions.append(definition)
    return definitions


async def build_indexes(conns: Sequence[asyncpg.Connection], definitions: Sequence[str]) -> None:
    """Build the indexes `defer_indexes` dropped, shared out among the connections."""
    await _take_turns(conns, list(definitions))


async def analyze(conns: Sequence[asyncpg.Connection], shadow: str) -> None:
    """Planner statistics for the rebuilt tables before they go live, the tables shared out
    among the connections given (each takes the next table left when it is done)."""
    await _take_turns(conns, [f"ANALYZE {quoted(shadow)}.{quoted(t)}" for t in READ_MODEL_TABLES])


async def _take_turns(conns: Sequence[asyncpg.Connection], statements: list[str]) -> None:
    """Run the statements, each connection taking the next one left when it is done; every
    connection is done before a failure is raised (none is left busy)."""

    async def take_turns(conn: asyncpg.Connection) -> None:
        while statements:
            await conn.execute(statements.pop(0))

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
    for function in READ_MODEL_FUNCTIONS:
        await conn.execute(f"ALTER FUNCTION {quoted(LIVE)}.{function} SET SCHEMA {quoted(retired)}")
        await conn.execute(f"ALTER FUNCTION {quoted(shadow)}.{function} SET SCHEMA {quoted(LIVE)}")
    # the web edge's memory of the routing tables is of the old ones (migration 020)
    await conn.execute("SELECT pg_notify($1, $2)", EDGE_FACTS_CHANNEL, LIVE)
    return retired


async def drop_schema(conn: asyncpg.Connection, schema: str) -> None:
    if not (_SHADOW.fullmatch(schema) or re.fullmatch(r"replaced_[0-9]+", schema)):
        raise ValueError(f"not a replay schema: {schema!r}")
    await conn.execute(f"DROP SCHEMA IF EXISTS {quoted(schema)} CASCADE")
