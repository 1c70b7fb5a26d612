"""`dispatch huddle --team T --held`: record that the team's daily meeting was held."""

from __future__ import annotations

import asyncio

import click

from dispatch.settings import Settings


def record_meeting(
    team_id: str, attendees: tuple[str, ...], at: str | None, reviewed: int | None, by: str
) -> str:
    """Spool a TeamMeetingHeld and relay it to Kafka; bad input is a usage error naming the
    option (exit 2) and records nothing."""
    from dispatch.bootstrap import open_services
    from dispatch.team.meeting import MeetingRefused, meeting_event, parse_meeting

    settings = Settings()
    missing = [n for n in ("database_url", "kafka_bootstrap_servers") if not getattr(settings, n)]
    if missing:
        raise click.UsageError(f"set {', '.join(n.upper() for n in missing)}")
    body: dict[str, object] = {"attendees": attendees, "clients_reviewed": reviewed}
    if at is not None:
        body["occurred_at"] = at
    options = {"occurred_at": "--at", "attendees": "--attendee", "clients_reviewed": "--reviewed"}

    async def run() -> str:
        async with open_services(settings, pool_size=2) as services:
            event = await meeting_event(
                services.read_models,
                team_id=team_id,
                meeting=parse_meeting(body),
                recorded_by=f"cli:{by}",
                now=services.clock.now(),
            )
            fresh = await services.spool.record([event])
            await services.spool.relay_once()
            held_on = event.payload.model_dump()["held_on"]
            return f"{'recorded' if fresh else 'already recorded'} the meeting of {held_on}"

    try:
        return asyncio.run(run())
    except MeetingRefused as refused:
        hint = options.get(refused.field.split(".")[0], "--team")
        raise click.BadParameter(refused.message, param_hint=hint) from None
