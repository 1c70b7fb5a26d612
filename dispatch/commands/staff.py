"""`dispatch staff join|leave|role|list`: who is on a team, as events (StaffJoined,
StaffLeft with the coverage gaps it opens, StaffRoleChanged), checked like the team API."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING

import click

from dispatch.commands.changes import BY_HELP, parse_input, record_change, report
from dispatch.commands.rota import INSTANT
from dispatch.rota.events import Role
from dispatch.rota.staff_intake import JoinInput, LeaveInput, RoleInput, change_role, join, leave
from dispatch.settings import Settings

if TYPE_CHECKING:
    from dispatch.bootstrap import Services
    from dispatch.events import Envelope

ROLES: tuple[str, ...] = Role.__args__  # type: ignore[attr-defined]
OPTIONS = {
    "team_id": "--team",
    "staff_id": "--staff",
    "display_name": "--name",
    "languages": "--language",
    "joined_at": "--at",
    "left_at": "--at",
}
WHERE = """
Changes are spooled in PostgreSQL (DATABASE_URL) and relayed to Kafka
(KAFKA_BOOTSTRAP_SERVERS) at once; `dispatch up` prints both."""


@click.group(epilog=WHERE)
def staff() -> None:
    """A team's staff: who joins, who leaves (never paged again; their replies refused;
    rota gaps reported), role changes."""


@staff.command("join")
@click.option("--team", "team_id", required=True, help="Team id.")
@click.option("--staff", "staff_id", required=True, help="The new member's staff id.")
@click.option("--name", "display_name", required=True, help="Name shown to colleagues.")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--phone", required=True, help="Work phone, E.164 (+15550100009).")
@click.option("--gender", default="unspecified", show_default=True,
              type=click.Choice(["female", "male", "nonbinary", "unspecified"]))  # fmt: skip
@click.option("--language", "languages", multiple=True, help="Languages spoken (repeat).")
@click.option("--at", "joined_at", type=INSTANT, default=None, help="From when (default now).")
@click.option("--by", "by", required=True, help=BY_HELP)
def join_cmd(
    team_id: str,
    staff_id: str,
    display_name: str,
    role: str,
    phone: str,
    gender: str,
    languages: tuple[str, ...],
    joined_at: datetime | None,
    by: str,
) -> None:
    """Someone joins the team (or a leaver comes back): StaffJoined."""
    req = parse_input(JoinInput, {"staff_id": staff_id, "display_name": display_name,
                                  "role": role, "gender": gender, "phone": phone,
                                  "languages": languages or None, "joined_at": joined_at},
                      OPTIONS)  # fmt: skip

    async def build(services: Services, now: datetime) -> list[Envelope]:
        return await join(services.staff_roster, team_id, req, now=now, actor=f"cli:{by}")

    report(record_change(build, options=OPTIONS))


@staff.command("leave")
@click.option("--team", "team_id", required=True, help="Team id.")
@click.option("--staff", "staff_id", required=True, help="Who leaves.")
@click.option("--at", "left_at", type=INSTANT, default=None,
              help="When they leave (default now; up to 90 days ahead).")  # fmt: skip
@click.option("--reason", default="", help="Why (kept with the event).")
@click.option("--by", "by", required=True, help=BY_HELP)
def leave_cmd(team_id: str, staff_id: str, left_at: datetime | None, reason: str, by: str) -> None:
    """Someone leaves the team: StaffLeft, and a CoverageGapDetected for each period of the
    next four weeks where the rota still names them. From then on their replies are refused
    and they are never paged."""
    req = parse_input(LeaveInput, {"left_at": left_at, "reason": reason}, OPTIONS)

    async def build(services: Services, now: datetime) -> list[Envelope]:
        return await leave(services.staff_roster, team_id, staff_id, req, now=now,
                           actor=f"cli:{by}")  # fmt: skip

    recorded = record_change(build, options=OPTIONS, wait_applied=True)
    report(recorded)
    gaps = [e for e in recorded.events if e.type == "CoverageGapDetected"]
    for gap in gaps:
        p = gap.payload
        click.echo(f"coverage gap: {getattr(p, 'layer', '')} {getattr(p, 'starts_at', '')} -> "
                   f"{getattr(p, 'ends_at', '')}")  # fmt: skip
    if gaps:
        click.echo("cover each gap with `dispatch rota override`")


@staff.command("role")
@click.option("--team", "team_id", required=True, help="Team id.")
@click.option("--staff", "staff_id", required=True, help="Whose role changes.")
@click.option("--role", required=True, type=click.Choice(ROLES), help="The new role.")
@click.option("--by", "by", required=True, help=BY_HELP)
def role_cmd(team_id: str, staff_id: str, role: str, by: str) -> None:
    """A staff member's role changes (team lead and manager decide who escalation pages)."""
    req = parse_input(RoleInput, {"role": role}, OPTIONS)

    async def build(services: Services, now: datetime) -> list[Envelope]:
        return await change_role(services.staff_roster, team_id, staff_id, req, now=now,
                                 actor=f"cli:{by}")  # fmt: skip

    report(record_change(build, options=OPTIONS))


@staff.command("list")
@click.option("--team", "team_id", required=True, help="Team id.")
def list_cmd(team_id: str) -> None:
    """The team's staff with their roles and phones; leavers marked with when they left."""
    from dispatch.bootstrap import open_services

    settings = Settings()
    if not settings.database_url:
        raise click.UsageError("set DATABASE_URL (`dispatch up` prints it)")

    async def run() -> list[str]:
        async with open_services(settings, pool_size=2) as services:
            now = services.clock.now()
            return [
                f"{s.staff_id:<14} {s.role:<26} {s.phone:<16} {s.display_name}"
                + (f"  (left {s.left_at:%Y-%m-%d %H:%M}Z)" if s.has_left(now) else "")
                + (f"  (leaves {s.left_at:%Y-%m-%d %H:%M}Z)"
                   if s.left_at and not s.has_left(now) else "")
                for s in await services.staff_roster.roster(team_id)
            ]  # fmt: skip

    for line in asyncio.run(run()):
        click.echo(line)
