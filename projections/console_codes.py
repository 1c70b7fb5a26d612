"""The console's one-time sign-in codes in PostgreSQL (migration 019): one live code per
account, kept as a hash, deleted when used (so it works once) or replaced by a new one."""

from __future__ import annotations

from datetime import datetime

import asyncpg


class ConsoleCodes:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def issue(
        self, account_id: str, code_hash: str, *, now: datetime, expires_at: datetime, ip: str
    ) -> None:
        """The account's code from now on (any earlier one stops working); expired codes of
        every account are swept at the same time."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM console_sign_in_codes WHERE expires_at <= $1", now)
            await conn.execute(
                """INSERT INTO console_sign_in_codes (account_id, code_hash, created_at,
                       expires_at, ip) VALUES ($1, $2, $3, $4, $5)
                   ON CONFLICT (account_id) DO UPDATE SET code_hash = EXCLUDED.code_hash,
                       created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at,
                       ip = EXCLUDED.ip""",
                account_id, code_hash, now, expires_at, ip,
            )  # fmt: skip

    async def live(self, account_id: str, now: datetime) -> str | None:
        """The hash of the account's unexpired code, if there is one."""
        code_hash: str | None = await self._pool.fetchval(
            "SELECT code_hash FROM console_sign_in_codes WHERE account_id = $1 AND expires_at > $2",
            account_id,
            now,
        )
        return code_hash

    async def use(self, account_id: str, code_hash: str) -> bool:
        """Spend the code: True for the one request that deletes it (two at once: one wins)."""
        status: str = await self._pool.execute(
            "DELETE FROM console_sign_in_codes WHERE account_id = $1 AND code_hash = $2",
            account_id,
            code_hash,
        )
        return status.endswith(" 1")
