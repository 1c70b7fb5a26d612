"""One incident reviewed: every event of the dispatch in order, who was paged how and with
what result, and the response figures, all from the events' own times.

Times: the start is the contact that caused the dispatch (the ring of a call, the text, the
risk change), its occurred_at. Time to engage runs from the start to the acknowledgement;
MTTA from the moment the system raised the dispatch (DispatchOpened's recorded_at) to it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from pydantic import computed_field

from dispatch.review.describe import describe
from dispatch.review.facts import (
    Archived,
    ReviewModel,
    event_time_order,
    first,
    of_type,
    seconds,
    text,
)

START_LABEL = {"crisis_call": "ring", "crisis_text": "text", "risk_high": "risk rise"}


class Figure(ReviewModel):
    """One response figure: seconds from `since` to the event, or why there is none."""

    name: str
    label: str
    seconds: float | None
    at: datetime | None
    note: str = ""


class TimelineEntry(ReviewModel):
    occurred_at: datetime
    recorded_at: datetime
    type: str
    actor: str
    summary: str


class PageAttempt(ReviewModel):
    """One page (one notification id): who, how, and what the provider reported."""

    notification_id: uuid.UUID
    staff_id: str
    channel: str
    step: int
    attempt: int
    requested_at: datetime
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    failed_at: datetime | None = None
    failure: str | None = None
    cancelled: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def outcome(self) -> str:
        if self.delivered_at is not None:
            return "delivered"
        if self.failed_at is not None:
            return f"failed: {self.failure}"
        if self.cancelled is not None:
            return f"cancelled: dispatch {self.cancelled}"
        return "sent, no delivery report" if self.sent_at is not None else "not sent"


class Escalation(ReviewModel):
    at: datetime
    sequence: int
    round: int
    step: int
    reason: str
    exhausted: bool
    staff_ids: tuple[str, ...]


class Reply(ReviewModel):
    at: datetime
    staff_id: str
    channel: str
    verb: str
    decision: str  # accepted | refused: reason | not decided


class CallerMessage(ReviewModel):
    at: datetime
    duration_s: int | None


class IncidentSummary(ReviewModel):
    """One line of the incident list."""

    short_code: str
    dispatch_id: uuid.UUID
    team_id: str
    client_id: str | None
    reason: str
    started_at: datetime
    status: str
    acknowledged_by: str | None
    outcome: str | None
    escalations: int
    steps_used: int
    pages: int
    failures: int
    to_acknowledgement_s: float | None
    mtta_s: float | None
    to_resolution_s: float | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def escalated(self) -> bool:
        return self.escalations > 0


class Incident(ReviewModel):
    short_code: str
    dispatch_id: uuid.UUID
    team_id: str
    client_id: str | None
    caller_kind: str
    reason: str
    risk_level: str
    started_at: datetime
    opened_recorded_at: datetime
    status: str
    acknowledged_by: str | None
    resolved_by: str | None
    outcome: str | None
    figures: tuple[Figure, ...]
    steps_used: int
    pages_per_channel: dict[str, int]
    pages: tuple[PageAttempt, ...]
    escalations: tuple[Escalation, ...]
    replies: tuple[Reply, ...]
    caller_messages: tuple[CallerMessage, ...]
    failures: tuple[str, ...]
    timeline: tuple[TimelineEntry, ...]

    def figure(self, name: str) -> Figure:
        return next(f for f in self.figures if f.name == name)

    def summary(self) -> IncidentSummary:
        return IncidentSummary(
            short_code=self.short_code, dispatch_id=self.dispatch_id, team_id=self.team_id,
            client_id=self.client_id, reason=self.reason, started_at=self.started_at,
            status=self.status, acknowledged_by=self.acknowledged_by, outcome=self.outcome,
            escalations=len(self.escalations), steps_used=self.steps_used,
            pages=len(self.pages), failures=len(self.failures),
            to_acknowledgement_s=self.figure("to_acknowledgement").seconds,
            mtta_s=self.figure("mtta").seconds,
            to_resolution_s=self.figure("to_resolution").seconds,
        )  # fmt: skip


def _pages(facts: Sequence[Archived]) -> list[PageAttempt]:
    pages: dict[str, PageAttempt] = {}
    for f in facts:
        nid, p = str(f.payload.get("notification_id", "")), f.payload
        if f.type == "PageRequested" and nid not in pages:
            pages[nid] = PageAttempt(
                notification_id=uuid.UUID(nid), staff_id=p["staff_id"], channel=p["channel"],
                step=p["step"], attempt=p["attempt"], requested_at=f.occurred_at,
            )  # fmt: skip
            continue
        page = pages.get(nid)
        updates: dict[str, dict[str, object]] = {
            "PageSent": {"sent_at": f.occurred_at},
            "PageDelivered": {"delivered_at": f.occurred_at},
            "PageFailed": {"failed_at": f.occurred_at, "failure": p.get("reason")},
            "PageCancelled": {"cancelled": p.get("reason")},
        }
        update = updates.get(f.type)
        if page is not None and update is not None:
            first_only = {k: v for k, v in update.items() if getattr(page, k) is None}
            pages[nid] = page.model_copy(update=first_only)
    return list(pages.values())


def _figure(name: str, label: str, since: datetime, at: datetime | None, missing: str) -> Figure:
    return Figure(name=name, label=label, seconds=seconds(since, at), at=at,
                  note="" if at is not None else missing)  # fmt: skip


def _twiml_at(source: Archived | None) -> datetime | None:
    raw = text(source, "twiml_at") if source is not None else None
    return datetime.fromisoformat(raw) if raw else None


def _replies(facts: Sequence[Archived]) -> list[Reply]:
    decided = {text(f, "reply_event_id"): f for f in of_type(facts, "StaffReplyDecided")}
    out = []
    for f in of_type(facts, "StaffReplyReceived"):
        d = decided.get(str(f.event_id))
        decision = "not decided"
        if d is not None:
            refused = f"refused: {d.payload.get('reason')}"
            decision = "accepted" if d.payload.get("accepted") else refused
        p = f.payload
        out.append(Reply(at=f.occurred_at, staff_id=p["staff_id"], channel=p["channel"],
                         verb=p["verb"], decision=decision))  # fmt: skip
    return out


def _failures(facts: Sequence[Archived], staff_of_page: dict[str, str]) -> list[str]:
    return [
        f"{f.occurred_at:%H:%M:%S}Z {describe(f, staff_of_page)}"
        for f in of_type(facts, "PageFailed", "EscalationTargetUnreachable")
    ]


def review_incident(
    dispatch_facts: Sequence[Archived], client_facts: Sequence[Archived] = ()
) -> Incident | None:
    """The incident of the dispatch among `dispatch_facts` (its correlation's events);
    `client_facts` are the client's own events, for the first face-to-face contact."""
    facts = event_time_order(dispatch_facts)
    opened = first(facts, "DispatchOpened")
    if opened is None:
        return None
    o = opened.payload
    source = next((f for f in facts if str(f.event_id) == str(o["source_event_id"])), None)
    start = source.occurred_at if source is not None else opened.occurred_at
    word = START_LABEL.get(str(o["reason"]), "start")
    pages = _pages(facts)
    staff_of_page = {str(p.notification_id): p.staff_id for p in pages}
    ack, done = first(facts, "DispatchAcknowledged"), first(facts, "DispatchResolved")
    visit = next(
        (
            c
            for c in event_time_order(client_facts)
            if c.type == "ContactRecorded"
            and c.payload.get("kind") == "face_to_face"
            and c.occurred_at >= start
        ),
        None,
    )
    sent = min((p.sent_at for p in pages if p.sent_at), default=None)
    delivered = min((p.delivered_at for p in pages if p.delivered_at), default=None)
    ack_at, done_at = (ack.occurred_at if ack else None), (done.occurred_at if done else None)
    figures = (
        _figure("to_twiml", f"{word} to TwiML", start, _twiml_at(source), "not recorded"),
        _figure("to_first_page_sent", f"{word} to first page sent", start, sent, "none sent"),
        _figure("to_first_page_delivered", f"{word} to first page delivered", start, delivered,
                "no delivery report"),
        _figure("to_acknowledgement", f"{word} to acknowledgement (time to engage)", start,
                ack_at, "not acknowledged"),
        _figure("mtta", "dispatch raised to acknowledgement (MTTA)", opened.recorded_at, ack_at,
                "not acknowledged"),
        _figure("to_first_face_to_face", f"{word} to first face-to-face contact", start,
                visit.occurred_at if visit else None, "no face-to-face contact recorded"),
        _figure("to_resolution", f"{word} to resolution", start, done_at, "not resolved"),
    )  # fmt: skip
    escalations = [
        Escalation(at=f.occurred_at, sequence=f.payload["sequence"], round=f.payload["round"],
                   step=f.payload["step"], reason=f.payload["reason"],
                   exhausted=f.payload["exhausted"], staff_ids=tuple(f.payload["staff_ids"]))
        for f in of_type(facts, "DispatchEscalated")
    ]  # fmt: skip
    channels: dict[str, int] = {}
    for page in pages:
        channels[page.channel] = channels.get(page.channel, 0) + 1
    return Incident(
        short_code=o["short_code"], dispatch_id=uuid.UUID(str(o["dispatch_id"])),
        team_id=o["team_id"], client_id=o.get("client_id"), caller_kind=o["caller_kind"],
        reason=o["reason"], risk_level=o["risk_level"], started_at=start,
        opened_recorded_at=opened.recorded_at,
        status="resolved" if done else "acknowledged" if ack else "open",
        acknowledged_by=text(ack, "staff_id") if ack else None,
        resolved_by=text(done, "staff_id") if done else None,
        outcome=text(done, "outcome") if done else None,
        figures=figures,
        steps_used=1 + max((e.sequence for e in escalations), default=0),
        pages_per_channel=channels, pages=tuple(pages), escalations=tuple(escalations),
        replies=tuple(_replies(facts)),
        caller_messages=tuple(
            CallerMessage(at=f.occurred_at, duration_s=f.payload.get("duration_s"))
            for f in of_type(facts, "CallerMessageRecorded")
        ),
        failures=tuple(_failures(facts, staff_of_page)),
        timeline=tuple(
            TimelineEntry(occurred_at=f.occurred_at, recorded_at=f.recorded_at, type=f.type,
                          actor=f.actor, summary=describe(f, staff_of_page))
            for f in facts
        ),
    )  # fmt: skip
