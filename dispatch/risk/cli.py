"""`dispatch signal` and `dispatch huddle`: the risk area on the command line."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import click

from dispatch.settings import Settings


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
    from dispatch.bus import EventPublisher
    from dispatch.clock import SystemClock
    from dispatch.ingress.spool import IngressSpool
    from dispatch.risk.intake import SignalRefused, parse_signal, signal_event
    from projections.pool import connect
    from projections.risk_queries import RiskQueries

    settings = Settings()
    _needs(settings, "database_url", "kafka_bootstrap_servers")
    body: dict[str, object] = {"source": source, "sign": sign, "severity": severity}
    if occurred_at is not None:
        body["occurred_at"] = occurred_at
    if carer_id is not None:
        body["carer_id"] = carer_id

    async def run() -> str:
        pool = await connect(settings.database_url, max_size=2)
        publisher = EventPublisher(settings.kafka_bootstrap_servers)
        try:
            clock = SystemClock()
            event = await signal_event(
                RiskQueries(pool),
                client_id=client_id,
                signal=parse_signal(body),
                team_id=None,
                reported_by=f"cli:{reported_by}",
                now=clock.now(),
            )
            spool = IngressSpool(pool, publisher, clock)
            fresh = await spool.record([event])
            await spool.relay_once()
            return f"{'recorded' if fresh else 'already recorded'} {event.event_id}"
        finally:
            await publisher.stop()
            await pool.close()

    try:
        click.echo(asyncio.run(run()))
    except SignalRefused as refused:
        raise click.BadParameter(refused.message, param_hint=refused.field) from None


@click.command()
@click.option("--team", "team_id", required=True, help="The team id, e.g. act-north.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def huddle(team_id: str, as_json: bool) -> None:
    """The daily huddle board: clients by risk, why, last contact, open work, last 24 h."""
    import dataclasses

    from dispatch.clock import SystemClock
    from dispatch.risk.board import render_board
    from projections.pool import connect
    from projections.risk_queries import RiskQueries

    settings = Settings()
    _needs(settings, "database_url")
    now = SystemClock().now()

    async def run() -> str:
        pool = await connect(settings.database_url, max_size=2)
        try:
            rows = await RiskQueries(pool).huddle(team_id, now)
        finally:
            await pool.close()
        if as_json:
            return json.dumps(
                [dataclasses.asdict(r) for r in rows],
                default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v),
                indent=2,
            )
        return render_board(team_id, rows, now)

    click.echo(asyncio.run(run()))
