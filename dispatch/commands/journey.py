"""What the client journey commands share: read the input like the API does, record the
change through the journey service (spooled, then relayed to Kafka), and refuse bad input
naming the option (exit 2) with nothing recorded."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click
from pydantic import BaseModel

from dispatch.settings import Settings

if TYPE_CHECKING:
    from dispatch.clients.service import JourneyService, Recorded

M = TypeVar("M", bound=BaseModel)
# The input's field -> the option that gives it.
OPTIONS = {
    "client_id": "CLIENT_ID", "team_id": "--team", "display_name": "--name",
    "source": "--source", "source_team": "--source-team", "criteria_met": "--criterion",
    "note": "--note", "occurred_at": "--at", "reason": "--reason", "phones": "--phone",
    "care_coordinator_id": "--coordinator", "preferred_gender": "--gender-preference",
    "language": "--language", "cultural_needs": "--cultural-needs", "to_team_id": "--to",
    "carers_involved": "--carer", "client_involved": "--client-involved/--client-not-involved",
    "staff_ids": "--staff", "kind": "--kind", "where": "--where", "minutes": "--minutes",
    "summary": "--summary", "goals": "--goal", "by": "--by", "carer_id": "--carer",
}  # fmt: skip
AT = click.option("--at", "occurred_at", default=None, help="When (ISO 8601 with zone; now).")
BY = click.option("--by", "by", required=True, help="Who records it (your staff id).")


def option_of(field: str) -> str:
    return OPTIONS.get(field.split(".", 1)[0], field)


def refused(field: str, message: str) -> click.BadParameter:
    return click.BadParameter(message, param_hint=option_of(field))


def parsed(model: type[M], **given: Any) -> M:
    """The options as the input model (unset ones left out), or exit 2 naming the option."""
    from dispatch.clients.inputs import parse_input
    from dispatch.clients.ports import JourneyRefused

    body = {k: v for k, v in given.items() if v is not None and v != ()}
    try:
        return parse_input(model, body)
    except JourneyRefused as refusal:
        raise refused(refusal.field, refusal.message) from None


def record(change: Callable[[JourneyService], Awaitable[Recorded]]) -> None:
    """Decide and record one change against the running stack, print what was recorded."""
    from dispatch.bootstrap import open_services
    from dispatch.clients.ports import JourneyRefused
    from dispatch.logs import configure_logging

    settings = Settings()
    missing = [n.upper() for n in ("database_url", "kafka_bootstrap_servers")
               if not getattr(settings, n)]  # fmt: skip
    if missing:
        raise click.UsageError(f"set {', '.join(missing)}")
    configure_logging(fmt=settings.log_format, level=settings.log_level)  # on stderr

    async def run() -> Recorded:
        async with open_services(settings, pool_size=2) as services:
            done = await change(services.journey)
            await services.spool.relay_once()
            return done

    try:
        done = asyncio.run(run())
    except JourneyRefused as refusal:
        raise refused(refusal.field, refusal.message) from None
    word = "recorded" if done.fresh else "already recorded"
    for event in done.events:
        click.echo(f"{word} {event.type} {event.event_id}")
