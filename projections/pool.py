"""The read-model database: one asyncpg pool, migrated before anyone uses it."""

from __future__ import annotations

import asyncpg

from projections.migrations import migrate


async def keep_session(conn: asyncpg.Connection) -> None:
    """The pool's reset on release: nothing to send (docs/decisions/034).

    asyncpg's default reset sends one more statement after every use (advisory unlocks,
    CLOSE ALL, UNLISTEN *, RESET ALL): a round trip per use, about a third of the web edge's
    socket writes at 100 calls/s. A connection borrowed from the pool leaves no session
    state behind it: settings are SET LOCAL or set_config(..., true), advisory locks are
    transaction-scoped or released where they are taken, nothing LISTENs on it. asyncpg
    still rolls back a transaction left open before this runs.
    """


# The array types the project's statements send and read. asyncpg has no built-in codec for
# them: the first statement that meets one on a connection first runs asyncpg's type
# introspection query (here 7-11 ms for uuid[], 3-4 ms more for text[] and bytea[]). That
# statement was a crisis call's spool insert or a page's claim on a pooled connection never
# used before. Each connection now learns them all when it opens (docs/decisions/047).
ARRAY_TYPES = ("uuid[]", "text[]", "bytea[]", "bigint[]", "int[]")
_LEARN = "SELECT " + ", ".join(f"${i}::{t}" for i, t in enumerate(ARRAY_TYPES, start=1))


async def learn_types(conn: asyncpg.Connection) -> None:
    """Introspect ARRAY_TYPES now (preparing a statement that names them is enough: the
    codecs stay with the connection)."""
    await conn.prepare(_LEARN)


async def connect(url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """Open a pool on url and bring its schema up to date (safe from several processes);
    each of its connections knows ARRAY_TYPES before it is first lent."""
    pool: asyncpg.Pool = await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, reset=keep_session, init=learn_types
    )
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
    except BaseException:
        await pool.close()
        raise
    return pool
