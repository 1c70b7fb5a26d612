"""The stack bench_latency measures: embedded and on loopback as `dispatch up` runs it
(durable PostgreSQL, 4 partitions, one faust worker), with teams enough for any rate.

Each team has its own crisis line, a primary and a backup on duty, and an escalation
policy whose first step outlasts the run: every page the bench sees is a first page.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from bench.embedded import LOOPBACK_ONLY, state_dir
from dispatch.escalation.events import EscalationPolicySet
from dispatch.events import Envelope, new_event
from dispatch.events.envelope import EventPayload
from dispatch.logs import configure_logging
from dispatch.rota.events import ShiftAssigned, StaffRegistered, TeamFormed
from dispatch.settings import Settings
from dispatch.soak.session import SOAK_POLICY
from dispatch.stack.runtime import Stack

TEAMS = 10


def team_line(i: int) -> str:
    return f"+1500555{7000 + i:04d}"


def staff_phone(team: int, seat: int) -> str:
    return f"+1555080{team:02d}{seat:02d}"


def team_events(now: datetime, teams: int = TEAMS) -> list[Envelope]:
    """`teams` teams, each with its own crisis line and two people on duty."""
    events: list[Envelope] = []

    def emit(payload: EventPayload, key: str) -> None:
        events.append(new_event(payload, key=key, occurred_at=now, recorded_at=now, actor="bench"))

    for i in range(teams):
        team = f"bench-{i:02d}"
        emit(
            TeamFormed(
                team_id=team,
                name=f"Bench team {i}",
                service_model="ACT",
                time_zone="Europe/London",
                fallback_number="+15005550199",
                crisis_line_number=team_line(i),
            ),
            team,
        )
        for seat, layer in enumerate(("primary", "backup")):
            staff = f"{team}-{layer}"
            emit(
                StaffRegistered(
                    staff_id=staff,
                    team_id=team,
                    display_name=layer,
                    role="nurse",
                    gender="unspecified",
                    phone=staff_phone(i, seat),
                ),
                team,
            )
            emit(
                ShiftAssigned(
                    team_id=team,
                    staff_id=staff,
                    layer=layer,
                    starts_at=now - timedelta(days=1),
                    ends_at=now + timedelta(days=2),
                ),
                team,
            )
        emit(EscalationPolicySet(team_id=team, policy=SOAK_POLICY), team)
    return events


@asynccontextmanager
async def bench_stack(teams: int = TEAMS) -> AsyncIterator[Stack]:
    """A started stack with `teams` teams projected; stopped (each child by PID) after."""
    path = state_dir("act-dispatch-bench-")
    settings = Settings().model_copy(update={"state_dir": path, **LOOPBACK_ONLY})
    configure_logging(fmt=settings.log_format, level="warning")
    stack = Stack(settings, durable=True, sandbox_process=True)
    try:
        await stack.start()
        await stack.publisher.publish(team_events(stack.clock.now(), teams))
        await stack.projector.wait_until_caught_up(timeout=60)
        yield stack
    finally:
        await stack.stop()
        shutil.rmtree(path, ignore_errors=True)
