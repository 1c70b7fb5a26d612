"""`dispatch user add|reset|list`: web console accounts. No account or password ships:
each person gets a one-time setup link (or a password typed at a prompt or piped on
stdin), stored only as an argon2id hash."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace

import click

from dispatch.settings import Settings
from dispatch.web.console.accounts import AccountRefused, new_account
from dispatch.web.console.passwords import PasswordRefused, check_new_password, hash_password
from dispatch.web.console.sessions import SETUP_LINK_VALID, digest, new_token

WHERE = """
Accounts are kept in PostgreSQL (DATABASE_URL, which `dispatch up` prints). The setup
link starts with PUBLIC_BASE_URL (else http://WEB_HOST:WEB_PORT, 8080 by default)."""
BY_HELP = "Who creates the account (your staff id or name); kept with it."


def _settings() -> Settings:
    settings = Settings()
    if not settings.database_url:
        raise click.UsageError("set DATABASE_URL (`dispatch up` prints it)")
    return settings


def console_url(settings: Settings) -> str:
    return settings.public_base_url or f"http://{settings.web_host}:{settings.web_port or 8080}"


def _password(stdin: bool, prompt: bool, account_id: str) -> str | None:
    """A password from stdin or a hidden prompt (typed twice), checked; None: neither."""
    if stdin and prompt:
        raise click.UsageError("give --password-stdin or --password-prompt, not both")
    if stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif prompt:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        return None
    try:
        return check_new_password(password, account_id=account_id)
    except PasswordRefused as exc:
        raise click.BadParameter(str(exc), param_hint="password") from None


def _secret(password: str | None) -> tuple[str | None, str | None, str | None]:
    """(password hash, setup token, its digest): a hash, or a fresh one-time link."""
    if password is not None:
        return hash_password(password), None, None
    token = new_token()
    return None, token, digest(token)


def _say_done(account_id: str, token: str | None, settings: Settings) -> None:
    if token is None:
        click.echo(f"{account_id}: password set; sign in at {console_url(settings)}/console/")
        return
    hours = int(SETUP_LINK_VALID.total_seconds() // 3600)
    click.echo(f"{account_id}: one-time setup link (valid {hours} h; give it to them only):")
    click.echo(f"  {console_url(settings)}/console/setup/{token}")


password_stdin = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
password_prompt = click.option(
    "--password-prompt", is_flag=True, help="Type the password at a hidden prompt (twice)."
)


@click.group(epilog=WHERE)
def user() -> None:
    """Web console accounts: one per person, with a role and the team of their staff record."""


@user.command("add")
@click.option(
    "--staff",
    "account_id",
    required=True,
    help="The staff id (an admin who is not on the staff: any sign-in name).",
)
@click.option(
    "--role", required=True, type=click.Choice(["staff", "team_lead", "manager", "admin"])
)
@click.option(
    "--team",
    "team_id",
    default=None,
    help="The team (a staff member's is their staff record's; optional for an admin).",
)
@click.option("--by", "by", required=True, help=BY_HELP)
@password_stdin
@password_prompt
def add(
    account_id: str,
    role: str,
    team_id: str | None,
    by: str,
    password_stdin: bool,
    password_prompt: bool,
) -> None:
    """Create an account and print its one-time setup link (or set the password given)."""
    from dispatch.bootstrap import open_services

    settings = _settings()
    password = _password(password_stdin, password_prompt, account_id)

    async def run() -> str | None:
        async with open_services(settings, pool_size=2) as services:
            now = services.clock.now()
            try:
                account = new_account(
                    account_id,
                    role=role,
                    team_id=team_id,
                    staff=await services.read_models.staff(account_id.strip()),
                    now=now,
                    created_by=f"cli:{by}",
                )
            except AccountRefused as exc:
                raise click.BadParameter(str(exc), param_hint=exc.option) from None
            stored, token, setup = _secret(password)
            expires = now + SETUP_LINK_VALID if setup else None
            created = await services.accounts.create(
                replace(account, password_hash=stored, setup_digest=setup, setup_expires_at=expires)
            )
            if not created:
                raise click.BadParameter(
                    f"an account {account.account_id} exists (`dispatch user reset`)",
                    param_hint="--staff",
                )
            return token

    token = asyncio.run(run())
    _say_done(account_id.strip(), token, settings)


@user.command("reset")
@click.option("--staff", "account_id", required=True, help="The account's sign-in name.")
@password_stdin
@password_prompt
def reset(account_id: str, password_stdin: bool, password_prompt: bool) -> None:
    """A forgotten password: a new setup link (or the password given); every session ends."""
    from dispatch.bootstrap import open_services

    settings = _settings()
    password = _password(password_stdin, password_prompt, account_id)

    async def run() -> str | None:
        async with open_services(settings, pool_size=2) as services:
            now = services.clock.now()
            stored, token, setup = _secret(password)
            found = await services.accounts.reset(
                account_id,
                password_hash=stored,
                setup_digest=setup,
                setup_expires_at=now + SETUP_LINK_VALID if setup else None,
                now=now,
            )
            if not found:
                raise click.BadParameter(f"no account {account_id}", param_hint="--staff")
            return token

    token = asyncio.run(run())
    _say_done(account_id, token, settings)


@user.command("list")
def list_accounts() -> None:
    """Every account with its role, team and whether a password is set."""
    from dispatch.bootstrap import open_services

    settings = _settings()

    async def run() -> list[str]:
        async with open_services(settings, pool_size=2) as services:
            out = []
            for a in await services.accounts.accounts():
                staff = await services.read_models.staff(a.staff_id) if a.staff_id else None
                team = staff.team_id if staff else (a.team_id or "-")
                state = "password set" if a.password_hash else "awaiting setup"
                left = "  (left the team)" if staff and staff.has_left(services.clock.now()) else ""
                out.append(f"{a.account_id:<16} {a.role:<10} {team:<14} {state}{left}")
            return out

    for line in asyncio.run(run()):
        click.echo(line)


@user.command("disable")
@click.option("--staff", "account_id", required=True, help="The account's sign-in name.")
def disable(account_id: str) -> None:
    """The account stops working at once: every session ends, sign-in is refused."""
    from dispatch.bootstrap import open_services

    settings = _settings()

    async def run() -> bool:
        async with open_services(settings, pool_size=2) as services:
            return await services.accounts.disable(account_id, services.clock.now())

    if not asyncio.run(run()):
        raise click.BadParameter(f"no account {account_id}", param_hint="--staff")
    click.echo(f"{account_id}: disabled; every session ended")
