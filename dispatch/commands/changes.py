"""What the commands that change a team's facts share: input read as the API reads it,
refusals as a usage error naming the option (exit 2), and events recorded through the
ingress spool, relayed to Kafka at once and, when asked, waited for until in force."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click
import structlog
from pydantic import BaseModel, ValidationError

from dispatch.clients.intake import CarerRefused
from dispatch.rota.checks import RotaRefused
from dispatch.settings import Settings

if TYPE_CHECKING:
    from datetime import datetime

    from dispatch.bootstrap import Services
    from dispatch.events import Envelope

log = structlog.get_logger(__name__)
M = TypeVar("M", bound=BaseModel)
APPLY_WAIT_S = 5.0
BY_HELP = "Who makes the change (your staff id); recorded as the events' actor."


@dataclass(frozen=True)
class Recorded:
    events: list[Envelope]
    fresh: bool
    applied: bool | None  # None: not waited for


def _hint(field: str, options: Mapping[str, str]) -> str:
    return options.get(field, f"--{field.replace('_', '-')}")


def parse_input(model: type[M], data: dict[str, Any], options: Mapping[str, str]) -> M:
    """The options as the API's input model, or a usage error naming the first bad option."""
    try:
        return model.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        field = str(err["loc"][0]) if err["loc"] else "input"
        message = str(err["msg"]).removeprefix("Value error, ")
        raise click.BadParameter(message, param_hint=_hint(field, options)) from None


def record_change(
    build: Callable[[Services, datetime], Awaitable[Sequence[Envelope]]],
    *,
    options: Mapping[str, str] = {},
    wait_applied: bool = False,
) -> Recorded:
    """Build the events against the read models, spool them and relay them to Kafka; with
    `wait_applied`, wait (bounded) until the read models have them. A refusal is a usage
    error naming the option, and nothing is recorded."""
    from dispatch.bootstrap import open_services
    from projections.applied import wait_applied as applied_within

    settings = Settings()
    for name in ("database_url", "kafka_bootstrap_servers"):
        if not getattr(settings, name):
            raise click.UsageError(f"set {name.upper()} (`dispatch up` prints it)")

    async def run() -> Recorded:
        async with open_services(settings, pool_size=2) as services:
            events = list(await build(services, services.clock.now()))
            fresh = await services.spool.record(events)
            await services.spool.relay_once()
            for e in events:
                log.info("change_recorded", event_type=e.type, event_id=str(e.event_id),
                         key=e.key, actor=e.actor, duplicate=not fresh)  # fmt: skip
            applied = None
            if wait_applied:
                ids = [e.event_id for e in events]
                applied = await applied_within(services.pool, ids, APPLY_WAIT_S)
            return Recorded(events, fresh, applied)

    try:
        return asyncio.run(run())
    except RotaRefused as refused:
        p = refused.problem
        raise click.BadParameter(p.message, param_hint=_hint(p.field, options)) from None
    except CarerRefused as refused:
        raise click.BadParameter(
            refused.message, param_hint=_hint(refused.field, options)
        ) from None


def report(recorded: Recorded) -> None:
    """One line per event recorded, and whether it is in force yet."""
    verb = "recorded" if recorded.fresh else "already recorded"
    for e in recorded.events:
        click.echo(f"{verb} {e.type} {e.event_id}")
    if recorded.applied is True:
        click.echo("in force now")
    elif recorded.applied is False:
        click.echo("recorded; in force as soon as the stack's projector applies it")
