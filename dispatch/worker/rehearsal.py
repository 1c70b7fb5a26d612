"""A worker rehearses a crisis call before it says it is ready: decided, never appended or sent.

The first crisis call after a start took longer than the next ones in every hop a worker
owns (docs/decisions/048): the crisis line's decision and the notifier's reads ran their
code, their pydantic models and their statements for the first time inside that call. A
rehearsal runs the same code on a made-up call first:

- the crisis line decides it (`CrisisLine.handle_contact`: the caller's preferences, the
  person dialled, the dispatch and its page, the team's escalation policy). That only
  decides: it returns events, and the rehearsal drops them;
- the decided events are encoded as an append encodes them;
- the notifier reads what it reads before a send and writes the page's text
  (`Notifier.rehearse`): nothing is claimed, sent or written.

The made-up call is for the first team the read models know, dialling its first person on
duty now (as the voice webhook would have chosen), so the rehearsal takes the path a real
call takes. With no team, or nobody on duty, it takes the shorter path of a call nobody
can be paged for. It never raises: a worker whose rehearsal fails still starts.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime

import structlog

from dispatch.bootstrap import Services
from dispatch.crisis.events import CrisisCallReceived
from dispatch.events import Envelope, new_event
from dispatch.events.codec import encode

log = structlog.get_logger(__name__)
REHEARSAL_TEAM = "rehearsal"  # the team of a rehearsal when the read models know none
ACTOR = "worker:rehearsal"


@dataclass(frozen=True)
class Rehearsal:
    """What a rehearsal went through: its team, the events decided, the pages read for."""

    team_id: str
    decided: tuple[str, ...]
    pages: int


def rehearsal_call(team_id: str, dialled_staff_id: str | None, at: datetime) -> Envelope:
    """A crisis call from an unknown caller, as the voice webhook records one."""
    call_sid = f"CArehearsal{uuid.uuid4().hex}"
    return new_event(
        CrisisCallReceived(
            call_sid=call_sid,
            caller_number="+10000000000",
            caller_kind="unknown",
            client_id=None,
            team_id=team_id,
            dialled_staff_id=dialled_staff_id,
        ),
        key=f"caller:{call_sid}",
        occurred_at=at,
        recorded_at=at,
        actor=ACTOR,
    )


async def rehearse(services: Services, *, timeout_s: float) -> Rehearsal | None:
    """Decide a made-up crisis call and read for its pages; None when it failed or took
    longer than `timeout_s` (logged)."""
    try:
        async with asyncio.timeout(timeout_s):
            return await _rehearse(services)
    except Exception as exc:  # a rehearsal is never why a worker does not start
        log.warning("worker_rehearsal_failed", error=f"{type(exc).__name__}: {exc}"[:300])
        return None


async def _rehearse(services: Services) -> Rehearsal:
    now = services.clock.now()
    teams = await services.read_models.caseloads()
    team_id = teams[0].team_id if teams else REHEARSAL_TEAM
    on_duty = [p for p in await services.rota.on_duty_people(team_id, now) if p]
    call = rehearsal_call(team_id, on_duty[0].staff_id if on_duty else None, now)
    decided = await services.crisis_line.handle_contact(call)
    for event in decided:
        encode(event)
        await services.notifier.rehearse(event)
    pages = sum(1 for e in decided if e.type == "PageRequested")
    log.info("worker_rehearsed", team_id=team_id, decided=[e.type for e in decided], pages=pages)
    return Rehearsal(team_id, tuple(e.type for e in decided), pages)
