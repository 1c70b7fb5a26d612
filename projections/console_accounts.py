"""The web console's accounts, sessions and failed sign-ins in PostgreSQL (migration 016).

Only digests of the secrets are stored: the SHA-256 of a session cookie's token and of a
setup link's token, and an argon2 hash of a password.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from projections.queries import _make


@dataclass(frozen=True)
class Account:
    account_id: str
    staff_id: str | None  # None: an admin who is not on any team's staff
    team_id: str | None  # for an account that is not a staff member
    role: str
    password_hash: str | None
    disabled_at: datetime | None = None


@dataclass(frozen=True)
class NewAccount:
    account_id: str
    staff_id: str | None
    team_id: str | None
    role: str
    created_at: datetime
    created_by: str
    password_hash: str | None = None
    setup_digest: str | None = None
    setup_expires_at: datetime | None = None


@dataclass(frozen=True)
class Session:
    session_digest: str
    account: Account
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class Failures:
    """Failed sign-ins within the window: for the name typed, and from the address."""

    by_account: int
    by_ip: int


_ACCOUNT = "a.account_id, a.staff_id, a.team_id, a.role, a.password_hash, a.disabled_at"


def _account(row: asyncpg.Record) -> Account:
    return _make(Account, row)


class ConsoleAccounts:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    # --- accounts ------------------------------------------------------------------------
    async def create(self, new: NewAccount) -> bool:
        """Add the account; False when one with that name or staff id exists already."""
        status: str = await self._pool.execute(
            """INSERT INTO console_accounts (account_id, staff_id, team_id, role, password_hash,
                   password_set_at, setup_digest, setup_expires_at, created_at, created_by)
               VALUES ($1, $2, $3, $4, $5, CASE WHEN $5::text IS NULL
                       THEN NULL ELSE $8::timestamptz END, $6, $7, $8, $9)
               ON CONFLICT DO NOTHING""",
            new.account_id, new.staff_id, new.team_id, new.role, new.password_hash,
            new.setup_digest, new.setup_expires_at, new.created_at, new.created_by,
        )  # fmt: skip
        return status.endswith(" 1")

    async def account(self, account_id: str) -> Account | None:
        row = await self._pool.fetchrow(
            f"SELECT {_ACCOUNT} FROM console_accounts a WHERE a.account_id = $1",  # noqa: S608
            account_id,
        )
        return _account(row) if row else None

    async def accounts(self) -> list[Account]:
        rows = await self._pool.fetch(
            f"SELECT {_ACCOUNT} FROM console_accounts a ORDER BY a.account_id"  # noqa: S608
        )
        return [_account(r) for r in rows]

    async def by_setup(self, setup_digest: str, now: datetime) -> Account | None:
        """The account a setup link names, while the link is valid."""
        row = await self._pool.fetchrow(
            f"""SELECT {_ACCOUNT} FROM console_accounts a
                WHERE a.setup_digest = $1 AND a.setup_expires_at > $2""",  # noqa: S608
            setup_digest,
            now,
        )
        return _account(row) if row else None

    async def reset(
        self,
        account_id: str,
        *,
        password_hash: str | None,
        setup_digest: str | None,
        setup_expires_at: datetime | None,
        now: datetime,
    ) -> bool:
        """A new password (or a new setup link and no password); every session ends."""
        async with self._pool.acquire() as conn, conn.transaction():
            status: str = await conn.execute(
                """UPDATE console_accounts SET password_hash = $2,
                       password_set_at = CASE WHEN $2::text IS NULL
                                          THEN NULL ELSE $5::timestamptz END,
                       setup_digest = $3, setup_expires_at = $4
                   WHERE account_id = $1""",
                account_id, password_hash, setup_digest, setup_expires_at, now,
            )  # fmt: skip
            await conn.execute("DELETE FROM console_sessions WHERE account_id = $1", account_id)
        return status.endswith(" 1")

    async def set_password(self, account_id: str, password_hash: str, now: datetime) -> None:
        """The person chose their password: the setup link is spent, other sessions end."""
        await self.reset(
            account_id, password_hash=password_hash, setup_digest=None,
            setup_expires_at=None, now=now,
        )  # fmt: skip

    async def disable(self, account_id: str, now: datetime) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            status: str = await conn.execute(
                "UPDATE console_accounts SET disabled_at = $2 WHERE account_id = $1",
                account_id,
                now,
            )
            await conn.execute("DELETE FROM console_sessions WHERE account_id = $1", account_id)
        return status.endswith(" 1")

    # --- sessions ------------------------------------------------------------------------
    async def open_session(
        self,
        *,
        session_digest: str,
        account_id: str,
        csrf_token: str,
        now: datetime,
        expires_at: datetime,
        ip: str,
    ) -> None:
        """A new session; the account's expired ones are swept at the same time."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM console_sessions WHERE expires_at <= $1", now)
            await conn.execute(
                """INSERT INTO console_sessions (session_digest, account_id, csrf_token,
                       created_at, expires_at, ip) VALUES ($1, $2, $3, $4, $5, $6)""",
                session_digest, account_id, csrf_token, now, expires_at, ip,
            )  # fmt: skip

    async def session(self, session_digest: str, now: datetime) -> Session | None:
        """The unexpired session with this digest and its account."""
        row = await self._pool.fetchrow(
            f"""SELECT s.session_digest, s.csrf_token, s.expires_at, {_ACCOUNT}
                FROM console_sessions s JOIN console_accounts a USING (account_id)
                WHERE s.session_digest = $1 AND s.expires_at > $2""",  # noqa: S608
            session_digest,
            now,
        )
        if row is None:
            return None
        return Session(row["session_digest"], _account(row), row["csrf_token"], row["expires_at"])

    async def end_session(self, session_digest: str) -> None:
        await self._pool.execute(
            "DELETE FROM console_sessions WHERE session_digest = $1", session_digest
        )

    async def sessions_of(self, account_id: str) -> int:
        count: int = await self._pool.fetchval(
            "SELECT count(*) FROM console_sessions WHERE account_id = $1", account_id
        )
        return count

    async def leave_notice(self, session_digest: str, notice: str) -> None:
        await self._pool.execute(
            "UPDATE console_sessions SET notice = $2 WHERE session_digest = $1",
            session_digest,
            notice,
        )

    async def take_notice(self, session_digest: str) -> str | None:
        """The notice left for this session's next page, cleared as it is read."""
        notice: str | None = await self._pool.fetchval(
            """UPDATE console_sessions s SET notice = NULL
               FROM (SELECT notice FROM console_sessions WHERE session_digest = $1
                     FOR UPDATE) AS old
               WHERE s.session_digest = $1 RETURNING old.notice""",
            session_digest,
        )
        return notice

    # --- failed sign-ins -----------------------------------------------------------------
    async def failures(self, account_id: str, ip: str, since: datetime) -> Failures:
        row = await self._pool.fetchrow(
            """SELECT (SELECT count(*) FROM console_login_failures
                        WHERE account_id = $1 AND failed_at > $3) AS by_account,
                      (SELECT count(*) FROM console_login_failures
                        WHERE ip = $2 AND failed_at > $3) AS by_ip""",
            account_id,
            ip,
            since,
        )
        assert row is not None
        return Failures(by_account=row["by_account"], by_ip=row["by_ip"])

    async def record_failure(self, account_id: str, ip: str, at: datetime) -> None:
        await self._pool.execute(
            "INSERT INTO console_login_failures (account_id, ip, failed_at) VALUES ($1, $2, $3)",
            account_id,
            ip,
            at,
        )

    async def clear_failures(self, account_id: str, before: datetime) -> None:
        """A successful sign-in forgives the name's failures (not the address's); rows
        older than `before` are swept for everyone."""
        await self._pool.execute(
            "DELETE FROM console_login_failures WHERE account_id = $1 OR failed_at <= $2",
            account_id,
            before,
        )
