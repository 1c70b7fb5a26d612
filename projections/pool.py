"""The read-model database: one asyncpg pool, migrated before anyone uses it."""

from __future__ import annotations

import asyncpg

from projections.migrations import migrate


async def connect(url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """Open a pool on url and bring its schema up to date (safe from several processes)."""
    pool: asyncpg.Pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
    except BaseException:
        await pool.close()
        raise
    return pool
