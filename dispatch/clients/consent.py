"""The consent in force between a client and a carer: a pure fold of the client's events.

Only what the client agreed to share may be told to the carer, and only while the consent
stands: a revocation takes effect from the instant it is recorded. Events are folded in
event time ((occurred_at, event_id)) up to the instant asked about, so a replay gives the
same answer for every past instant. The older CarerRegistered flag counts as a consent to
share everything (True) or nothing (False), with no review date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from dispatch.clients.events import (
    CONSENT_SHARES,
    CarerRegistered,
    ConsentGranted,
    ConsentRevoked,
    ConsentShare,
)
from dispatch.events import Envelope


@dataclass(frozen=True)
class CarerConsent:
    """What the client lets the team tell this carer, since when, and when to review it."""

    client_id: str
    carer_id: str
    shares: frozenset[ConsentShare]
    granted_at: datetime
    review_by: date | None

    def allows(self, share: ConsentShare) -> bool:
        return share in self.shares

    def review_overdue(self, today: date) -> bool:
        """Past its review date (still in force, but to be reviewed with the client)."""
        return self.review_by is not None and self.review_by < today


def _about(event: Envelope, client_id: str, carer_id: str) -> bool:
    p = event.payload
    return (
        isinstance(p, CarerRegistered | ConsentGranted | ConsentRevoked)
        and p.client_id == client_id
        and p.carer_id == carer_id
    )


def evolve(consent: CarerConsent | None, event: Envelope) -> CarerConsent | None:
    """The consent after one event about the same client and carer."""
    p = event.payload
    if isinstance(p, ConsentGranted):
        return CarerConsent(
            p.client_id, p.carer_id, frozenset(p.shares), event.occurred_at, p.review_by
        )
    if isinstance(p, ConsentRevoked):
        return None
    if isinstance(p, CarerRegistered) and p.client_consents_to_share is not None:
        if not p.client_consents_to_share:
            return None
        return CarerConsent(
            p.client_id, p.carer_id, frozenset(CONSENT_SHARES), event.occurred_at, None
        )
    return consent  # a registration without the older flag leaves consent as it was


def consent_at(
    events: Iterable[Envelope], *, client_id: str, carer_id: str, at: datetime
) -> CarerConsent | None:
    """The consent in force at `at` (None: the carer may be told nothing)."""
    mine = sorted(
        (e for e in events if e.occurred_at <= at and _about(e, client_id, carer_id)),
        key=lambda e: (e.occurred_at, str(e.event_id)),
    )
    consent: CarerConsent | None = None
    for event in mine:
        consent = evolve(consent, event)
    return consent
