"""`dispatch rota ...` and `dispatch oncall`: read the rota from PostgreSQL, change it by
publishing events to Kafka. Files are validated before any connection is made."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from dispatch.commands.changes import BY_HELP, parse_input, record_change, report
from dispatch.events import Envelope
from dispatch.rota.checks import RotaRefused
from dispatch.rota.loading import load_changes
from dispatch.rota.oncall import LAYERS
from dispatch.rota.rotafile import RotaFileError, dump, export, parse, to_events
from dispatch.rota.staff_intake import OverrideInput, cancel_override
from dispatch.rota.staff_intake import override as override_change
from dispatch.rota.timeline import segments
from dispatch.settings import Settings

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
WHERE = """
Reads come from the rota projection in PostgreSQL (DATABASE_URL); changes are published
as events to Kafka (KAFKA_BOOTSTRAP_SERVERS) and reach the projection through the
projector. `dispatch up` prints both. Instants are ISO 8601 with an offset
(2026-03-08T09:00-05:00 or ...Z)."""


class Instant(click.ParamType):
    """An ISO 8601 instant with an offset (a bare local time would be ambiguous)."""

    name = "iso-time"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 time", param, ctx)
        if parsed.tzinfo is None:
            self.fail(f"{value!r} has no UTC offset (add Z or e.g. -05:00)", param, ctx)
        return parsed


INSTANT = Instant()


def _settings() -> Settings:
    return Settings()


def _need(value: str, name: str) -> str:
    if not value:
        raise click.UsageError(f"set {name} (see `dispatch rota --help`)")
    return value


async def _with_read_models(fn: Any) -> Any:
    from dispatch.bootstrap import open_services

    settings = _settings()
    _need(settings.database_url, "DATABASE_URL")
    async with open_services(settings, pool_size=2) as services:
        return await fn(services.read_models)


@click.group(epilog=WHERE)
def rota() -> None:
    """The on-call rota: show it, override it, load it from and export it to YAML."""


@rota.command("show")
@click.option("--team", "team_id", required=True, help="Team id.")
@click.option("--at", type=INSTANT, default=None, help="Instant (default: now).")
@click.option("--hours", type=click.IntRange(1, 24 * 62), default=48, help="Timeline length.")
def show(team_id: str, at: datetime | None, hours: int) -> None:
    """Who is on call at an instant, and each layer's timeline from then on."""
    when = at or datetime.now(UTC)

    async def run(rm: Any) -> None:
        duty = await rm.on_duty(team_id, when)
        team = await rm.team(team_id)
        if team is None:
            raise click.ClickException(f"--team: no team {team_id!r}")
        state = await rm.team_rota(team_id, when, when + timedelta(hours=hours))
        click.echo(f"{team.name} ({team.service_model}, {team.time_zone}) at {when.isoformat()}")
        click.echo(_duty_line(duty))
        for layer in LAYERS:
            click.echo(f"{layer}:")
            for s in segments(state, layer, when, when + timedelta(hours=hours)):
                local = s.starts_at.astimezone(state_zone(team.time_zone))
                click.echo(f"  from {local:%a %Y-%m-%d %H:%M %Z}  {s.staff_id or '-'} ({s.source})")
        for c in await rm.caseloads():
            if c.team_id == team_id:
                flag = "OVER" if c.over_ratio else "ok"
                click.echo(
                    f"caseload: {c.clients} clients / {c.staff} staff = {c.clients_per_staff} "
                    f"per staff (target about {c.target_per_staff}) {flag}"
                )

    asyncio.run(_with_read_models(run))


def state_zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _duty_line(duty: Any) -> str:
    if not duty.covered:
        target = duty.fallback_team_id or duty.fallback_number
        return f"outside covered hours: calls go to the fallback {target}"
    p = duty.primary.staff_id if duty.primary else "nobody"
    b = duty.backup.staff_id if duty.backup else "nobody"
    return f"primary: {p}   backup: {b}"


@click.command("oncall", epilog=WHERE)
@click.option("--team", "team_id", required=True, help="Team id.")
@click.option("--at", type=INSTANT, default=None, help="Instant (default: now).")
def oncall(team_id: str, at: datetime | None) -> None:
    """Who is on call for a team now (or at --at): primary, backup, or the fallback."""
    when = at or datetime.now(UTC)

    async def run(rm: Any) -> None:
        if await rm.team(team_id) is None:
            raise click.ClickException(f"--team: no team {team_id!r}")
        click.echo(_duty_line(await rm.on_duty(team_id, when)))

    asyncio.run(_with_read_models(run))


OVERRIDE_OPTIONS = {
    "team_id": "--team",
    "staff_id": "--staff",
    "starts_at": "--from",
    "ends_at": "--to",
    "override_id": "--id",
    "layer": "--layer",
}


@rota.command("override")
@click.option("--team", "team_id", required=True, help="Team id.")
@click.option("--layer", type=click.Choice(LAYERS), default="primary", show_default=True)
@click.option("--staff", "staff_id", default=None, help="Who covers the layer.")
@click.option("--from", "starts", type=INSTANT, default=None, help="Start instant.")
@click.option("--to", "ends", type=INSTANT, default=None, help="End instant (exclusive).")
@click.option("--id", "override_id", default=None, help="Override id (default: derived).")
@click.option("--cancel", "cancel_id", default=None, help="Cancel the override with this id.")
@click.option("--by", "by", required=True, help=BY_HELP)
def override(
    team_id: str,
    layer: str,
    staff_id: str | None,
    starts: datetime | None,
    ends: datetime | None,
    override_id: str | None,
    cancel_id: str | None,
    by: str,
) -> None:
    """Have someone cover a layer from --from to --to (or --cancel an override).

    Checked like the API's: the staff member must be on the team and not leaving before
    --to, may not be primary and backup at once, an override lasts at most 31 days, and an
    --id already used for a different override is refused (exit 2, nothing recorded).
    """
    actor = f"cli:{by}"
    if cancel_id:

        async def cancel(services: Any, now: datetime) -> list[Envelope]:
            return [await cancel_override(services.staff_roster, team_id, cancel_id, now=now,
                                          actor=actor)]  # fmt: skip

        report(record_change(cancel, options={**OVERRIDE_OPTIONS, "override_id": "--cancel"}))
        return
    for name, value in (("--staff", staff_id), ("--from", starts), ("--to", ends)):
        if value is None:
            raise click.UsageError(f"{name} is required (or give --cancel ID)")
    req = parse_input(OverrideInput, {"layer": layer, "staff_id": staff_id, "starts_at": starts,
                                      "ends_at": ends, "override_id": override_id},
                      OVERRIDE_OPTIONS)  # fmt: skip
    if req.ends_at <= req.starts_at:
        raise click.BadParameter("must be after --from", param_hint="--to")

    async def schedule(services: Any, now: datetime) -> list[Envelope]:
        event, _ = await override_change(services.staff_roster, team_id, req, now=now,
                                         actor=actor)  # fmt: skip
        return [event]

    report(record_change(schedule, options=OVERRIDE_OPTIONS))


@rota.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate and list the events; publish nothing.")
@click.option("--by", "by", default=None, help=BY_HELP + " Required unless --dry-run.")
def load(file: Path, dry_run: bool, by: str | None) -> None:
    """Publish a rota file (YAML: team, coverage, staff, rotations, overrides, swaps,
    escalation_policy).

    The whole file is checked first; a bad file names the bad field (exit 2) and changes
    nothing. Times of day are read as written (`handoff: 18:00` is 18:00); overrides and
    swaps last at most 31 days; nobody is primary and backup at once; staff who have left
    the team are refused (bring someone back with `dispatch staff join`). Entries the file
    leaves out are not removed.
    """
    try:
        spec = parse(file.read_text())
    except RotaFileError as exc:
        raise click.BadParameter(str(exc), param_hint=str(file)) from None
    if dry_run:
        events = to_events(spec, now=datetime.now(UTC), actor="cli:dry-run")
        click.echo(f"would publish {len(events)} events for team {spec.team.id}")
        return
    if not by:
        raise click.UsageError("--by is required (who loads the rota)")

    async def build(services: Any, now: datetime) -> list[Envelope]:
        try:
            return await load_changes(services.staff_roster, spec, now=now, actor=f"cli:{by}")
        except RotaRefused as refused:
            p = refused.problem
            raise click.BadParameter(f"{p.field}: {p.message}", param_hint=str(file)) from None

    recorded = record_change(build)
    click.echo(f"published {len(recorded.events)} events for team {spec.team.id}")


@rota.command("export")
@click.option("--team", "team_id", required=True, help="Team id.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
def export_cmd(team_id: str, out: Path | None) -> None:
    """Write the team's current and future rota as a rota file (stdout by default)."""
    now = datetime.now(UTC)

    async def run() -> str:
        from dispatch.bootstrap import open_services
        from projections.escalation import team_policy

        settings = _settings()
        _need(settings.database_url, "DATABASE_URL")
        async with open_services(settings, pool_size=2) as services:
            rota = await services.read_models.team_rota(team_id, now, FAR_FUTURE)
            try:
                policy = await team_policy(services.pool, team_id)
                return dump(export(rota, policy, at=now))
            except RotaFileError as exc:
                raise click.ClickException(f"--team: {exc}") from None

    text: str = asyncio.run(run())
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text)
