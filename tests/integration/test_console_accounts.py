"""Console accounts and sessions on PostgreSQL: the store, signing in through the app,
refusals (wrong password, too many tries, a form without its token, a leaver, expiry), and
`dispatch user add` end to end with its one-time setup link."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import asyncpg
from click.testing import CliRunner

from dispatch.cli import main
from dispatch.events import new_event
from dispatch.rota.events import StaffLeft
from dispatch.web.console.sessions import digest
from projections.console_accounts import ConsoleAccounts, NewAccount
from projections.pool import connect
from projections.project import project
from tests.integration.console_support import (
    NOW,
    PASSWORD,
    add_account,
    console_app,
    csrf_of,
    sign_in,
    spooled,
)


async def test_the_store_keeps_accounts_setup_links_sessions_and_failures(
    pg_pool: asyncpg.Pool,
) -> None:
    """One account per name; a setup link works until it expires or is used; choosing a
    password ends every session; sessions expire; failures count per name and address."""
    store = ConsoleAccounts(pg_pool)
    new = NewAccount(account_id="s-nurse", staff_id="s-nurse", team_id=None, role="staff",
                     created_at=NOW, created_by="cli:s-lead", setup_digest=digest("link"),
                     setup_expires_at=NOW + timedelta(hours=24))  # fmt: skip
    assert await store.create(new)
    assert not await store.create(new)  # the same name again
    assert (await store.by_setup(digest("link"), NOW)) is not None
    assert await store.by_setup(digest("link"), NOW + timedelta(hours=24)) is None  # expired
    await store.open_session(
        session_digest="sd",
        account_id="s-nurse",
        csrf_token="c",
        now=NOW,
        expires_at=NOW + timedelta(hours=12),
        ip="127.0.0.1",
    )
    session = await store.session("sd", NOW)
    assert session is not None and session.account.password_hash is None
    assert await store.session("sd", NOW + timedelta(hours=12)) is None  # expired
    await store.leave_notice("sd", "K7M2Q is yours.")
    assert await store.take_notice("sd") == "K7M2Q is yours."
    assert await store.take_notice("sd") is None  # shown once
    await store.set_password("s-nurse", "$argon2id$stand-in", NOW)
    assert await store.by_setup(digest("link"), NOW) is None  # the link is spent
    assert await store.sessions_of("s-nurse") == 0
    for _ in range(3):
        await store.record_failure("s-nurse", "10.0.0.1", NOW)
    await store.record_failure("someone", "10.0.0.1", NOW)
    failures = await store.failures("s-nurse", "10.0.0.1", NOW - timedelta(minutes=15))
    assert (failures.by_account, failures.by_ip) == (3, 4)
    await store.clear_failures("s-nurse", NOW - timedelta(minutes=15))
    failures = await store.failures("s-nurse", "10.0.0.1", NOW - timedelta(minutes=15))
    assert (failures.by_account, failures.by_ip) == (0, 1)


async def test_signing_in_opens_the_board_and_a_wrong_password_does_not(
    pg_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    """Right password: a session cookie (HttpOnly, SameSite=Lax, expiring) and the team's
    board; wrong password or unknown name: the same 401 and no session."""
    async with console_app(pg_pool, tmp_path) as (client, services, _):
        await add_account(services, "s-nurse")
        wrong = await sign_in(client, "s-nurse", "not the password")
        assert wrong.status == 401 and "Wrong name or password" in await wrong.text()
        unknown = await sign_in(client, "nobody-here", PASSWORD)
        assert unknown.status == 401 and "Wrong name or password" in await unknown.text()
        assert "console_session" not in client.session.cookie_jar.filter_cookies(
            client.make_url("/")
        )
        done = await sign_in(client, "s-nurse")
        assert done.status == 303 and done.headers["Location"] == "/console/"
        cookie = done.cookies["console_session"]
        assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["max-age"] == "43200"
        board = await client.get("/console/")
        assert board.status == 200 and "Community nurse" in await board.text()
        assert "ACT North" in await board.text() or "act-north" in await board.text()
        assert board.headers["Content-Security-Policy"].startswith("default-src 'self'")


async def test_sign_in_is_refused_after_five_failures_even_with_the_right_password(
    pg_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    """Five wrong passwords for a name in 15 minutes: the sixth try is 429, right or not,
    until the window has passed."""
    async with console_app(pg_pool, tmp_path) as (client, services, clock):
        await add_account(services, "s-peer")
        for _ in range(5):
            assert (await sign_in(client, "s-peer", "guess guess guess")).status == 401
        blocked = await sign_in(client, "s-peer")
        assert blocked.status == 429 and "Too many failed attempts" in await blocked.text()
        clock.advance(timedelta(minutes=16))
        assert (await sign_in(client, "s-peer")).status == 303


async def test_a_post_without_the_sessions_csrf_token_is_refused_and_changes_nothing(
    pg_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    """Signed in, a form posted without (or with another) token is 403 and nothing is
    spooled; signing in itself needs the form's own token."""
    async with console_app(pg_pool, tmp_path) as (client, services, _):
        await add_account(services, "s-social")
        no_token = await client.post(
            "/console/login",
            allow_redirects=False,
            data={"account": "s-social", "password": PASSWORD},
        )
        assert no_token.status == 403
        assert (await sign_in(client, "s-social")).status == 303
        for data in ({}, {"csrf": "forged"}):
            refused = await client.post("/console/dispatches/K7M2Q/take", data=data,
                                        allow_redirects=False)  # fmt: skip
            assert refused.status == 403 and "Nothing was changed" in await refused.text()
        assert await spooled(pg_pool, "StaffReplyReceived") == []
        out = await client.post("/console/logout", data={}, allow_redirects=False)
        assert out.status == 403  # even signing out needs the token


async def test_a_leaver_is_locked_out_at_once_and_a_session_expires(
    pg_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    """Signed in, the staff member leaves: the very next request, and every one after it,
    goes to the sign-in page saying why, and signing in again is refused. A session ends
    after its hours."""
    async with console_app(pg_pool, tmp_path) as (client, services, clock):
        await add_account(services, "s-psych")
        await add_account(services, "s-lead", role="team_lead")
        assert (await sign_in(client, "s-psych")).status == 303
        assert (await client.get("/console/")).status == 200
        left = StaffLeft(staff_id="s-psych", team_id="act-north", left_at=clock.now())
        async with pg_pool.acquire() as conn, conn.transaction():
            await project(conn, new_event(left, key="act-north", occurred_at=clock.now(),
                                          recorded_at=clock.now(), actor="test"))  # fmt: skip
        page = await client.get("/console/", headers={"Accept": "text/html"},
                                allow_redirects=False)  # fmt: skip
        assert page.status == 303 and "why=left" in page.headers["Location"]
        said = await client.get(page.headers["Location"])
        assert "has left the team" in await said.text()
        # A second tab, or the board's script racing a reload, asks after the first was
        # sent to sign in: it is told why too, and so is the bare sign-in page.
        second = await client.get("/console/", headers={"Accept": "text/html"},
                                  allow_redirects=False)  # fmt: skip
        assert second.status == 303 and "why=left" in second.headers["Location"]
        assert "has left the team" in await (await client.get("/console/login")).text()
        feed = await client.get("/console/board/events")
        assert feed.status == 401
        again = await sign_in(client, "s-psych")
        assert again.status == 403 and "has left the team" in await again.text()

        client.session.cookie_jar.clear()
        assert (await sign_in(client, "s-lead")).status == 303
        clock.advance(timedelta(hours=12))
        expired = await client.get("/console/", headers={"Accept": "text/html"},
                                   allow_redirects=False)  # fmt: skip
        assert expired.status == 303 and expired.headers["Location"].startswith("/console/login")


def test_user_add_prints_a_one_time_setup_link_that_sets_the_password(
    pg_url: str, tmp_path: Path
) -> None:
    """`dispatch user add` for a staff member prints a link; the link sets the password
    once; the password signs in. A stranger (not admin) is refused naming --staff."""
    asyncio.run(_seed(pg_url))
    env = {"DATABASE_URL": pg_url, "PUBLIC_BASE_URL": "https://dispatch.example.org"}
    runner = CliRunner()
    added = runner.invoke(main, ["user", "add", "--staff", "s-nurse", "--role", "staff",
                                 "--by", "s-lead"], env=env)  # fmt: skip
    assert added.exit_code == 0, added.output
    link = added.output.split()[-1]
    assert link.startswith("https://dispatch.example.org/console/setup/")
    again = runner.invoke(main, ["user", "add", "--staff", "s-nurse", "--role", "staff",
                                 "--by", "s-lead"], env=env)  # fmt: skip
    assert again.exit_code == 2 and "exists" in again.output
    stranger = runner.invoke(main, ["user", "add", "--staff", "nobody", "--role", "manager",
                                    "--by", "s-lead"], env=env)  # fmt: skip
    assert stranger.exit_code == 2 and "--staff" in stranger.output
    piped = runner.invoke(main, ["user", "add", "--staff", "it-admin", "--role", "admin",
                                 "--by", "s-lead", "--password-stdin"], env=env,
                          input="short\n")  # fmt: skip
    assert piped.exit_code == 2 and "at least 12" in piped.output
    listed = runner.invoke(main, ["user", "list"], env=env)
    assert "s-nurse" in listed.output and "awaiting setup" in listed.output
    asyncio.run(_use_link(pg_url, tmp_path, link.rsplit("/", 1)[1]))
    gone = runner.invoke(main, ["user", "disable", "--staff", "s-nurse"], env=env)
    assert gone.exit_code == 0 and "disabled" in gone.output
    assert runner.invoke(main, ["user", "disable", "--staff", "nobody"], env=env).exit_code == 2


async def _seed(url: str) -> None:
    from dispatch.demo.seed import seed_events

    pool = await connect(url, max_size=2)
    async with pool.acquire() as conn, conn.transaction():
        for event in seed_events(NOW - timedelta(days=1), "+15005550001"):
            await project(conn, event)
    await pool.close()


async def _use_link(url: str, tmp_path: Path, token: str) -> None:
    pool = await connect(url, max_size=4)
    try:
        async with console_app(pool, tmp_path) as (client, services, clock):
            clock.at = services.clock.now()
            form = await client.get(f"/console/setup/{token}")
            assert form.status == 200
            csrf = csrf_of(await form.text())
            short = await client.post(
                f"/console/setup/{token}",
                allow_redirects=False,
                data={"csrf": csrf, "password": "short", "again": "short"},
            )
            assert short.status == 400 and "at least 12" in await short.text()
            chosen = {"csrf": csrf, "password": PASSWORD, "again": PASSWORD}
            done = await client.post(f"/console/setup/{token}", data=chosen, allow_redirects=False)
            assert done.status == 303
            assert (await client.get(f"/console/setup/{token}")).status == 404  # used
            assert (await sign_in(client, "s-nurse")).status == 303
    finally:
        await pool.close()
