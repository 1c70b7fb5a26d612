"""The team's open work for a client, decided purely in event time: a resolved crisis
dispatch opens a post-crisis follow-up (a contact due within a set time), and the fold's
open outreach tasks and follow-ups are recorded as closed once a contact does them.

A follow-up is opened by the follow-up agent, which remembers each crisis dispatch's client
from its DispatchOpened (the dispatch's own stream) and acts on its DispatchResolved; it is
closed by the risk agent, whose fold sees the client's contacts."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from dispatch.clients.events import ClientDischarged
from dispatch.crisis.events import DispatchOpened
from dispatch.events import Envelope, derived_id, new_event
from dispatch.risk.events import (
    ClosedBy,
    FollowUpClosed,
    FollowUpOpened,
    OutreachTaskClosed,
    OutreachTaskCreated,
)
from dispatch.risk.fold import RiskState

ACTOR = "risk-agent"
FOLLOW_UP_ACTOR = "follow-up-agent"
CRISIS_REASONS = frozenset({"crisis_call", "crisis_text"})


class CrisisDispatch(BaseModel):
    """What the follow-up agent keeps of a crisis dispatch about a client until it closes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dispatch_id: uuid.UUID
    client_id: str
    team_id: str


def crisis_dispatch(event: Envelope) -> CrisisDispatch | None:
    """The dispatch to remember: one opened by a client's (or their carer's) crisis call or
    text; None for anything else (a risk dispatch, an unknown caller)."""
    p = event.payload
    if not isinstance(p, DispatchOpened) or p.reason not in CRISIS_REASONS or not p.client_id:
        return None
    return CrisisDispatch(dispatch_id=p.dispatch_id, client_id=p.client_id, team_id=p.team_id)


def open_follow_up(
    dispatch: CrisisDispatch, resolved: Envelope, *, within: timedelta, now: datetime
) -> Envelope:
    """FollowUpOpened on the client's stream when the crisis dispatch is resolved: a contact
    is due `within` of the resolution. The id derives from the dispatch: once per dispatch."""
    follow_up_id = derived_id("follow-up", dispatch.dispatch_id)
    return new_event(
        FollowUpOpened(
            follow_up_id=follow_up_id,
            client_id=dispatch.client_id,
            team_id=dispatch.team_id,
            dispatch_id=dispatch.dispatch_id,
            due_at=resolved.occurred_at + within,
        ),
        key=dispatch.client_id,
        event_id=derived_id(follow_up_id, "opened"),
        occurred_at=resolved.occurred_at,
        recorded_at=now,
        actor=FOLLOW_UP_ACTOR,
        cause=resolved,
    )


_OPENS = (OutreachTaskCreated, FollowUpOpened)


def closures(
    before: RiskState, after: RiskState, trigger: Envelope, *, now: datetime
) -> list[Envelope]:
    """OutreachTaskClosed / FollowUpClosed for each open item the event's fold has done: a
    contact, a discharge, or an item that arrived after the contact that does it."""
    p = trigger.payload
    if not (before.open_outreach or before.open_follow_ups or isinstance(p, _OPENS)):
        return []  # nothing was open, and the event opens nothing: nothing to close
    by: ClosedBy = "discharge" if isinstance(p, ClientDischarged) else "contact"
    tasks = [*before.open_outreach, *([p.task_id] if isinstance(p, OutreachTaskCreated) else [])]
    asked = [*before.open_follow_ups, *([p.follow_up_id] if isinstance(p, FollowUpOpened) else [])]
    visit = None if by == "discharge" else after.last_face_to_face_event
    contact = None if by == "discharge" else after.last_contact_event
    done: list[OutreachTaskClosed | FollowUpClosed] = [
        OutreachTaskClosed(task_id=t, client_id=after.client_id, team_id=after.team_id,
                           closed_by=by, contact_event_id=visit)
        for t in dict.fromkeys(tasks) if t not in after.open_outreach
    ] + [
        FollowUpClosed(follow_up_id=f, client_id=after.client_id, team_id=after.team_id,
                       closed_by=by, contact_event_id=contact)
        for f in dict.fromkeys(asked) if f not in after.open_follow_ups
    ]  # fmt: skip
    return [_stamped(payload, trigger, now) for payload in done]


def _stamped(
    payload: OutreachTaskClosed | FollowUpClosed, trigger: Envelope, now: datetime
) -> Envelope:
    item = payload.task_id if isinstance(payload, OutreachTaskClosed) else payload.follow_up_id
    return new_event(
        payload,
        key=payload.client_id,
        event_id=derived_id(item, "closed"),
        occurred_at=trigger.occurred_at,
        recorded_at=now,
        actor=ACTOR,
        cause=trigger,
    )
