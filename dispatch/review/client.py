"""A client's history for the review: every event about them, grouped by what it is.

Event types this code does not know (a new area's, e.g. referral or consent events) are
kept and listed by their type; those whose name speaks of consent are grouped with consent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from dispatch.review.describe import describe
from dispatch.review.facts import Archived, ReviewModel, event_time_order

CATEGORY = {
    "ContactRecorded": "contact",
    "RelapseSignalObserved": "signal",
    "CrisisCallReceived": "call",
    "CrisisTextReceived": "call",
    "CallerMessageRecorded": "call",
    "RiskLevelChanged": "risk",
    "DispatchOpened": "dispatch",
    "DispatchEscalated": "dispatch",
    "DispatchAcknowledged": "dispatch",
    "DispatchResolved": "dispatch",
    "RelapsePlanRecorded": "plan",
    "RelapsePlanRevised": "plan",
    "PlanReviewOverdue": "plan",
    "CarerRegistered": "consent",
    "HospitalAdmissionRecorded": "hospital",
    "HospitalDischargeRecorded": "hospital",
    "ClientEnrolled": "journey",
    "ContactTargetSet": "journey",
    "OutreachTaskCreated": "outreach",
    "MissedContactAlerted": "outreach",
    "ClientRecordsViewed": "records read",
}


def category_of(event_type: str, known: bool) -> str:
    """The group an event is shown in; an unknown type speaking of consent is consent."""
    if event_type in CATEGORY:
        return CATEGORY[event_type]
    if "Consent" in event_type:
        return "consent"
    return "other" if known else "other (unknown type)"


class ClientEntry(ReviewModel):
    occurred_at: datetime
    recorded_at: datetime
    category: str
    type: str
    actor: str
    summary: str


class ClientHistory(ReviewModel):
    client_id: str
    start: datetime | None
    end: datetime | None
    counts: dict[str, int]
    unknown_types: tuple[str, ...]
    entries: tuple[ClientEntry, ...]


def review_client(
    client_id: str,
    facts: Sequence[Archived],
    *,
    known_types: frozenset[str],
    start: datetime | None = None,
    end: datetime | None = None,
) -> ClientHistory:
    """The client's events in [start, end) in event-time order, grouped and counted."""
    inside = [
        f
        for f in event_time_order(facts)
        if (start is None or f.occurred_at >= start) and (end is None or f.occurred_at < end)
    ]
    entries = tuple(
        ClientEntry(
            occurred_at=f.occurred_at,
            recorded_at=f.recorded_at,
            category=category_of(f.type, f.type in known_types),
            type=f.type,
            actor=f.actor,
            summary=describe(f),
        )
        for f in inside
    )
    return ClientHistory(
        client_id=client_id,
        start=start,
        end=end,
        counts=dict(sorted(Counter(e.category for e in entries).items())),
        unknown_types=tuple(sorted({f.type for f in inside} - known_types)),
        entries=entries,
    )
