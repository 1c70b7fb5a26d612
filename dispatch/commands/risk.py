"""`dispatch signal`, `plan`, `hospital` and `huddle`: the risk area on the command line."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import click

from dispatch.settings import Settings

T = TypeVar("T")

if TYPE_CHECKING:
    from dispatch.events import Envelope
    from projections.risk_queries import RiskQueries


def _needs(settings: Settings, *names: str) -> None:
    missing = [n for n in names if not getattr(settings, n)]
    if missing:
        raise click.UsageError(f"set {', '.join(n.upper() for n in missing)}")


@click.command()
@click.argument("client_id")
@click.option("--source", required=True, type=click.Choice(["staff", "carer", "system", "client"]))
@click.option("--sign", required=True, help="The early warning sign, e.g. sleep_loss.")
@click.option("--severity", required=True, type=int, help="1 (slight) to 5 (severe).")
@click.option("--at", "occurred_at", default=None, help="When it was observed (ISO 8601, zone).")
@click.option("--carer", "carer_id", default=None, help="The carer reporting (source carer).")
@click.option("--by", "reported_by", default="cli", help="Who reports it (staff id or system).")
def signal(
    client_id: str,
    source: str,
    sign: str,
    severity: int,
    occurred_at: str | None,
    carer_id: str | None,
    reported_by: str,
) -> None:
    """Record a relapse signal about a client (spooled, then published to Kafka)."""
    from dispatch.risk.intake import parse_signal, signal_event

    body: dict[str, object] = {"source": source, "sign": sign, "severity": severity}
    if occurred_at is not None:
        body["occurred_at"] = occurred_at
    if carer_id is not None:
        body["carer_id"] = carer_id
    parsed = _parsed(parse_signal, body)

    async def build(queries: RiskQueries, now: datetime) -> Envelope:
        return await signal_event(
            queries,
            client_id=client_id,
            signal=parsed,
            team_id=None,
            reported_by=f"cli:{reported_by}",
            now=now,
        )

    _record(build)


def _record(build: Callable[[RiskQueries, datetime], Awaitable[Envelope]]) -> None:
    """Build one event against the read models, spool it and relay it to Kafka; a refusal
    is a usage error naming the field (exit 2) and records nothing."""
    from dispatch.bootstrap import open_services
    from dispatch.risk.intake import SignalRefused

    settings = Settings()
    _needs(settings, "database_url", "kafka_bootstrap_servers")

    async def run() -> str:
        async with open_services(settings, pool_size=2) as services:
            event = await build(services.risk_queries, services.clock.now())
            fresh = await services.spool.record([event])
            await services.spool.relay_once()
            return f"{'recorded' if fresh else 'already recorded'} {event.type} {event.event_id}"

    try:
        click.echo(asyncio.run(run()))
    except SignalRefused as refused:
        raise click.BadParameter(refused.message, param_hint=refused.field) from None


def _parsed(parse: Callable[[Any], T], body: Any) -> T:
    """The parsed input, or a usage error naming the bad field before anything connects."""
    from dispatch.risk.intake import SignalRefused

    try:
        return parse(body)
    except SignalRefused as refused:
        raise click.BadParameter(refused.message, param_hint=refused.field) from None


def _load_plan_file(path: Path) -> Any:
    import yaml

    try:
        return yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="--file") from None


@click.command()
@click.argument("client_id")
@click.option(
    "--file",
    "plan_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The plan as YAML or JSON: warning_signs [{sign, weight 0-5, description}], "
    "triggers [text], actions [{contact, offer}], revision_note.",
)
@click.option("--by", "agreed_by", default="cli", help="Who agreed it (staff id).")
def plan(client_id: str, plan_file: Path, agreed_by: str) -> None:
    """Record a client's relapse-prevention plan, or a review of it (restarts the six-month
    review clock). The first plan is RelapsePlanRecorded, later ones RelapsePlanRevised."""
    from dispatch.risk.intake import parse_plan, plan_event

    parsed = _parsed(parse_plan, _load_plan_file(plan_file))

    async def build(queries: RiskQueries, now: datetime) -> Envelope:
        return await plan_event(
            queries,
            client_id=client_id,
            plan=parsed,
            team_id=None,
            agreed_by=f"cli:{agreed_by}",
            now=now,
        )

    _record(build)


@click.group()
def hospital() -> None:
    """Record a client's hospital admission or discharge (no outreach or alerts while in)."""


def _hospital_command(kind: Literal["admission", "discharge"], name: str, doc: str) -> None:
    @hospital.command(name, help=doc)
    @click.argument("client_id")
    @click.option("--at", "occurred_at", default=None, help="When (ISO 8601 with zone; now).")
    @click.option("--facility", default="", help="The hospital or ward.")
    @click.option("--by", "recorded_by", default="cli", help="Who records it (staff id).")
    def command(client_id: str, occurred_at: str | None, facility: str, recorded_by: str) -> None:
        from dispatch.risk.intake import hospital_event, parse_hospital

        body: dict[str, object] = {"facility": facility}
        if occurred_at is not None:
            body["occurred_at"] = occurred_at
        stay = _parsed(parse_hospital, body)

        async def build(queries: RiskQueries, now: datetime) -> Envelope:
            return await hospital_event(
                queries,
                client_id=client_id,
                kind=kind,
                stay=stay,
                team_id=None,
                recorded_by=f"cli:{recorded_by}",
                now=now,
            )

        _record(build)


_hospital_command("admission", "admit", "Record that CLIENT_ID was admitted to hospital.")
_hospital_command(
    "discharge", "discharge", "Record that CLIENT_ID left hospital (a risky time: risk rises)."
)


@click.command()
@click.option("--team", "team_id", required=True, help="The team id, e.g. act-north.")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON (clients and the team's notices) instead of text.")  # fmt: skip
@click.option("--by", "viewer", default="cli", help="Who reads it (staff id), for the audit.")
@click.option("--held", is_flag=True, help="Record that today's team meeting was held instead.")
@click.option("--attendee", "attendees", multiple=True, help="With --held: who attended.")
@click.option("--reviewed", type=int, default=None, help="With --held: clients reviewed.")
@click.option("--at", "held_at", default=None, help="With --held: when (ISO 8601; now).")
def huddle(
    team_id: str,
    as_json: bool,
    viewer: str,
    held: bool,
    attendees: tuple[str, ...],
    reviewed: int | None,
    held_at: str | None,
) -> None:
    """The daily huddle board: clients by risk, why, last contact, open work, last 24 h.

    The read is recorded as a ClientRecordsViewed event (spooled; relayed now when
    KAFKA_BOOTSTRAP_SERVERS is set, else by the running stack's relay). With --held, the
    team's meeting is recorded instead (TeamMeetingHeld, once per day)."""
    if held:
        from dispatch.commands.meeting import record_meeting

        click.echo(record_meeting(team_id, attendees, held_at, reviewed, viewer))
        return
    import dataclasses

    from dispatch.bootstrap import open_services
    from dispatch.logs import configure_logging
    from dispatch.risk.board import render_board
    from dispatch.risk.intake import records_viewed
    from projections.team_notices import team_notices

    settings = Settings()
    _needs(settings, "database_url")
    # Logs go to stderr: stdout is the board (with --json, JSON only).
    configure_logging(fmt=settings.log_format, level=settings.log_level)

    async def run() -> str:
        async with open_services(settings, pool_size=2) as services:
            now = services.clock.now()
            rows = await services.risk_queries.huddle(team_id, now)
            notices = await team_notices(services.staff_roster, services.carers, team_id, now)
            read = records_viewed(
                team_id=team_id,
                viewer=f"cli:{viewer}",
                view="huddle_board",
                client_ids=[r.client_id for r in rows],
                now=now,
            )
            await services.spool.record([read])
            if settings.kafka_bootstrap_servers:
                await services.spool.relay_once()
        if as_json:  # the shape of GET /api/huddle: the clients and the team's notices
            board = {"team_id": team_id, "as_of": now,
                     "clients": [dataclasses.asdict(r) for r in rows],
                     "notices": [dataclasses.asdict(n) for n in notices]}  # fmt: skip
            return json.dumps(
                board,
                default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v),
                indent=2,
            )
        return render_board(team_id, rows, now, notices)

    click.echo(asyncio.run(run()))
