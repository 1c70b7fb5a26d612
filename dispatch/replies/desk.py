"""The edge's half of a staff reply: find the dispatch, spool the reply, wait for its decision.

Nothing is decided here. The reply becomes one StaffReplyReceived keyed by its dispatch, and
the dispatch's agent decides it (dispatch/replies/decide.py). An SMS reply is confirmed by a
text from the worker; a voice keypress and an API action wait a bounded time for the
decision so the person can be told at once.

The one thing refused here, for every channel, is a reply from someone who has left the
team: the edge that identified the replier (phone, page, token) read the staff read model,
which knows a departure the moment it is projected (docs/decisions/017).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from dispatch.clock import Clock
from dispatch.events import Envelope, derived_id, new_event
from dispatch.replies.events import DispatchStatus, ReplyChannel, ReplyVerb, StaffReplyReceived

POLL_S = 0.02


@dataclass(frozen=True)
class Decision:
    """A reply's decision as the edge reads it back."""

    accepted: bool
    reason: str
    holder: str | None
    dispatch_status: DispatchStatus


@dataclass(frozen=True)
class KnownDispatch:
    dispatch_id: uuid.UUID
    short_code: str
    correlation_id: uuid.UUID | None


class DispatchFinder(Protocol):
    async def by_code(self, short_code: str) -> KnownDispatch | None:
        """The dispatch a code names: the one last paged with it, else the read model's."""
        ...


class Decisions(Protocol):
    async def decided(self, reply_event_id: uuid.UUID) -> Decision | None: ...


class Spool(Protocol):
    async def record(self, events: list[Envelope]) -> bool: ...


@dataclass(frozen=True)
class Replier:
    staff_id: str
    team_id: str
    phone: str | None = None
    left_at: datetime | None = None  # when they leave (or left) the team


class ReplierHasLeft(Exception):
    """A reply from someone no longer on the team: refused, nothing recorded."""

    def __init__(self, replier: Replier) -> None:
        super().__init__(f"{replier.staff_id} has left the team")
        self.replier = replier


LEFT_THE_TEAM = "You are no longer on the team's rota; nothing was changed."


class ReplyDesk:
    def __init__(
        self, *, spool: Spool, finder: DispatchFinder, decisions: Decisions, clock: Clock
    ) -> None:
        self._spool = spool
        self._finder = finder
        self._decisions = decisions
        self._clock = clock

    async def find(self, short_code: str) -> KnownDispatch | None:
        return await self._finder.by_code(short_code)

    async def submit(
        self,
        dispatch: KnownDispatch,
        *,
        replier: Replier,
        channel: ReplyChannel,
        verb: ReplyVerb,
        reply_id: str,
        outcome: str = "",
        confirm_by_sms: bool = False,
    ) -> tuple[Envelope, bool]:
        """Spool the reply for its dispatch's agent; (the event, False when a retry).
        ReplierHasLeft for someone who has left the team by now."""
        now = self._clock.now()
        if replier.left_at is not None and replier.left_at <= now:
            raise ReplierHasLeft(replier)
        event = new_event(
            StaffReplyReceived(
                dispatch_id=dispatch.dispatch_id,
                short_code=dispatch.short_code,
                reply_id=reply_id,
                channel=channel,
                verb=verb,
                staff_id=replier.staff_id,
                staff_team_id=replier.team_id,
                outcome=outcome,
                reply_to=replier.phone if confirm_by_sms else None,
            ),
            key=str(dispatch.dispatch_id),
            event_id=derived_id("staff-reply", channel, reply_id, verb),
            occurred_at=now,
            recorded_at=now,
            actor=replier.staff_id,
            correlation_id=dispatch.correlation_id,
        )
        fresh = await self._spool.record([event])
        return event, fresh

    async def wait(self, reply: Envelope, timeout_s: float) -> Decision | None:
        """The reply's decision, or None when it has not been decided within `timeout_s`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            found = await self._decisions.decided(reply.event_id)
            if found is not None or loop.time() >= deadline:
                return found
            await asyncio.sleep(POLL_S)
