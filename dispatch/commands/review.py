"""`dispatch review ...`: the manager's review on the command line.

Reads the event archive in PostgreSQL (DATABASE_URL). Every read of client data is recorded
as a ClientRecordsViewed (spooled; relayed now when KAFKA_BOOTSTRAP_SERVERS is set, else by
the running stack's relay) before the answer is printed.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from pydantic import BaseModel

from dispatch.settings import Settings

if TYPE_CHECKING:
    from dispatch.bootstrap import Services
    from dispatch.review.service import ReviewDesk

FORMATS = click.Choice(["text", "json", "csv"])
WEEK, FOUR_WEEKS = timedelta(days=7), timedelta(days=28)


def instant(value: str | None, name: str) -> datetime | None:
    """An ISO 8601 instant with its UTC offset ('Z' allowed), or a usage error naming it."""
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter("is not an ISO 8601 time", param_hint=name) from None
    if at.tzinfo is None:
        raise click.BadParameter("needs a UTC offset, e.g. 2026-03-09T17:30Z", param_hint=name)
    return at


def window(start: str | None, end: str | None, default: timedelta) -> tuple[datetime, datetime]:
    """[--from, --to): --to defaults to now, --from to `default` before --to."""
    to = instant(end, "--to") or datetime.now().astimezone()
    since = instant(start, "--from") or to - default
    if since >= to:
        raise click.BadParameter("must be before --to", param_hint="--from")
    return since, to


def render(result: Any, fmt: str, as_text: Callable[[Any], str]) -> str:
    from dispatch.review.render import table

    if fmt == "text":
        return as_text(result)
    if fmt == "json":
        if isinstance(result, BaseModel):
            return result.model_dump_json(indent=2)
        return json.dumps([r.model_dump(mode="json") for r in result], indent=2)
    return csv_text(table(result))


def csv_text(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    fields = list(dict.fromkeys(k for row in rows for k in row))
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().rstrip("\n")


def run(
    read: Callable[[Any], Awaitable[Any]],
    desk: Callable[[Services], ReviewDesk] = lambda services: services.review,
) -> Any:
    """Open the services, run one read of the review desk, relay its audit, close. Logs go
    to stderr (warnings only), so stdout is the result alone."""
    from dispatch.bootstrap import open_services
    from dispatch.logs import configure_logging

    settings = Settings()
    if not settings.database_url:
        raise click.UsageError("set DATABASE_URL")
    configure_logging(fmt=settings.log_format, level="warning")

    async def go() -> Any:
        async with open_services(settings, pool_size=2) as services:
            result = await read(desk(services))
            if settings.kafka_bootstrap_servers:
                await services.spool.relay_once()
            return result

    return asyncio.run(go())


fmt_option = click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
by_option = click.option("--by", "viewer", default="cli", help="Who reads (staff id): audited.")
team_option = click.option("--team", "team_id", required=True, help="The team id.")
from_option = click.option("--from", "start", default=None, help="Window start (ISO 8601).")
to_option = click.option("--to", "end", default=None, help="Window end (ISO 8601; now).")


@click.group()
def review() -> None:
    """The manager's review: incidents, clients, past states, response and fidelity figures."""


@review.command()
@click.argument("code")
@fmt_option
@by_option
def incident(code: str, fmt: str, viewer: str) -> None:
    """Every event of one dispatch, who was paged how, and the response figures."""
    from dispatch.review.render import incident_text

    found = run(lambda desk: desk.incident(code, team_id=None, viewer=f"cli:{viewer}"))
    if found is None:
        raise click.BadParameter(f"no dispatch with the code {code!r}", param_hint="CODE")
    click.echo(render(found, fmt, incident_text))


@review.command()
@team_option
@from_option
@to_option
@click.option("--reason", type=click.Choice(["crisis_call", "crisis_text", "risk_high"]))
@click.option("--outcome", default=None, help="Only outcomes containing this text.")
@click.option("--escalated/--not-escalated", default=None, help="Only (not) escalated ones.")
@fmt_option
@by_option
def incidents(
    team_id: str,
    start: str | None,
    end: str | None,
    reason: str | None,
    outcome: str | None,
    escalated: bool | None,
    fmt: str,
    viewer: str,
) -> None:
    """The team's incidents that started in the window (default: the last 7 days)."""
    from dispatch.review.render import incidents_text

    since, to = window(start, end, WEEK)
    rows = run(
        lambda desk: desk.incidents(
            team_id, since, to, viewer=f"cli:{viewer}", reason=reason, outcome=outcome,
            escalated=escalated,
        )
    )  # fmt: skip
    click.echo(render(rows, fmt, lambda r: incidents_text(team_id, r)))


@review.command()
@click.argument("client_id")
@from_option
@to_option
@fmt_option
@by_option
def client(client_id: str, start: str | None, end: str | None, fmt: str, viewer: str) -> None:
    """A client's contacts, signals, calls, risk changes, dispatches, plans, consent and reads."""
    from dispatch.review.render import client_text

    since, to = instant(start, "--from"), instant(end, "--to")
    history = run(lambda desk: desk.client(client_id, team_id=None, viewer=f"cli:{viewer}",
                                           start=since, end=to))  # fmt: skip
    if history is None:
        raise click.BadParameter(f"no client {client_id!r}", param_hint="CLIENT_ID")
    click.echo(render(history, fmt, client_text))


@review.command("as-of")
@click.argument("at")
@click.option("--team", "team_id", default=None, help="One team (default: every team).")
@fmt_option
@by_option
def as_of(at: str, team_id: str | None, fmt: str, viewer: str) -> None:
    """What the system believed at AT: events recorded by then, replayed through the folds."""
    from dispatch.review.render import as_of_text

    when = instant(at, "AT")
    assert when is not None
    belief = run(lambda desk: desk.as_of(when, team_id=team_id, viewer=f"cli:{viewer}"))
    click.echo(render(belief, fmt, as_of_text))


@review.command()
@team_option
@from_option
@to_option
@fmt_option
def team(team_id: str, start: str | None, end: str | None, fmt: str) -> None:
    """MTTA and time to engage (p50/p90/max), escalations, pages per person, rota holes."""
    from dispatch.review.render import team_text

    since, to = window(start, end, WEEK)
    click.echo(render(run(lambda desk: desk.team(team_id, since, to)), fmt, team_text))


@review.command()
@team_option
@from_option
@to_option
@click.option("--at", "at", default=None, help="A past date: the 4 weeks before it.")
@fmt_option
def fidelity(team_id: str, start: str | None, end: str | None, at: str | None, fmt: str) -> None:
    """DACTS fidelity items with their 1-5 ratings and anchors (default: the last 4 weeks)."""
    from dispatch.review.render import fidelity_text

    if at is not None and end is not None:
        raise click.BadParameter("give --at or --to, not both", param_hint="--at")
    since, to = window(start, end or at, FOUR_WEEKS)
    click.echo(render(run(lambda desk: desk.fidelity(team_id, since, to)), fmt, fidelity_text))


def report_desk(services: Services) -> ReviewDesk:
    from dispatch.events.registry import BY_TYPE
    from dispatch.review.report_desk import ReportDesk
    from projections.review_queries import ReviewQueries

    return ReportDesk(
        ReviewQueries(services.pool), services.spool, services.clock, frozenset(BY_TYPE)
    )


@review.command()
@team_option
@from_option
@to_option
@click.option(
    "--client",
    "client_id",
    default=None,
    help="Risk over time of this client only (default: every client of the team).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="The file to write (default: standard output).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["html", "json", "csv"]), default="html", show_default=True
)
@by_option
def report(
    team_id: str,
    start: str | None,
    end: str | None,
    client_id: str | None,
    out: Path | None,
    fmt: str,
    viewer: str,
) -> None:
    """A report to read and forward: one self-contained HTML page of charts and figures
    (default: the last 4 weeks), or the same figures as JSON or CSV. The read is recorded."""
    from dispatch.review.report_desk import NotOnTeam, UnknownTeam
    from dispatch.review.report_html import render_html, report_rows

    since, to = window(start, end, FOUR_WEEKS)
    try:
        found = run(
            lambda desk: desk.report(
                team_id, since, to, viewer=f"cli:{viewer}", client_id=client_id
            ),
            desk=report_desk,
        )
    except UnknownTeam:
        raise click.BadParameter(f"no team {team_id!r}", param_hint="--team") from None
    except NotOnTeam:
        raise click.BadParameter(
            f"{client_id!r} is not a client of {team_id}", param_hint="--client"
        ) from None
    if fmt == "html":
        text = render_html(found, datetime.now(UTC))
    elif fmt == "json":
        text = found.model_dump_json(indent=2)
    else:
        text = csv_text(report_rows(found))
    if out is None:
        click.echo(text)
        return
    out.write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
    click.echo(
        f"{out}: {len(found.incidents)} incidents, risk of {len(found.risk)} clients "
        f"({fmt}); the read of {len(found.client_ids)} clients' records was recorded"
    )
