"""Carers, consent and carers' assessments as events, after the same checks on every edge.

`dispatch carer add|assess`, `dispatch consent grant|revoke` and the team API come through
here. Bad input raises CarerRefused naming the field (the CLI exits 2 naming the option,
the API answers the status) and nothing is recorded. Who recorded a consent or an
assessment is in the event itself and is its actor.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from dispatch.clients.events import (
    CarerAssessmentRecorded,
    CarerRegistered,
    ConsentGranted,
    ConsentRevoked,
    Shares,
)
from dispatch.events import Envelope, derived_id, new_event
from dispatch.events.envelope import EventPayload
from dispatch.vocabulary import E164_PATTERN

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$"
LONGEST_REVIEW = timedelta(days=366)
"""A consent or a carer's assessment is reviewed at least once a year."""
ASSESSMENT_REVIEW = timedelta(days=365)  # the default review date of an assessment


class CarerRefused(ValueError):
    """A carer, consent or assessment change that records nothing; `status` is the HTTP
    status, `field` what was wrong."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.status = status
        self.field = field
        self.message = message


class CarerLookup(Protocol):
    async def client_team(self, client_id: str) -> str | None:
        """The team whose caseload the client is on; None: no such client."""
        ...

    async def is_carer(self, client_id: str, carer_id: str) -> bool: ...


class _Input(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CarerInput(_Input):
    carer_id: str = Field(pattern=ID_PATTERN)
    display_name: str = Field(min_length=1, max_length=120)
    phone: str = Field(pattern=E164_PATTERN)
    relationship: str = Field(min_length=1, max_length=60)


class ConsentInput(_Input):
    shares: Shares
    review_by: date
    note: str = Field(default="", max_length=500)


class RevokeInput(_Input):
    reason: str = Field(default="", max_length=500)


class AssessmentInput(_Input):
    needs: tuple[str, ...] = Field(min_length=1)
    support: tuple[str, ...] = ()
    review_by: date | None = None


async def _client(lookup: CarerLookup, client_id: str, team_id: str | None) -> None:
    """The client exists and is on the caller's team (None: any team, the CLI)."""
    team = await lookup.client_team(client_id)
    if team is None or (team_id is not None and team != team_id):
        raise CarerRefused(404, "client_id", f"no client {client_id!r} in your team")


async def _carer(lookup: CarerLookup, client_id: str, carer_id: str, team_id: str | None) -> None:
    await _client(lookup, client_id, team_id)
    if not await lookup.is_carer(client_id, carer_id):
        raise CarerRefused(404, "carer_id", f"{carer_id!r} is not a carer of {client_id}")


def _review_by(review_by: date, today: date) -> date:
    if review_by <= today:
        raise CarerRefused(400, "review_by", "must be after today")
    if review_by > today + LONGEST_REVIEW:
        raise CarerRefused(400, "review_by", f"must be within {LONGEST_REVIEW.days} days")
    return review_by


def _event(payload: EventPayload, client_id: str, now: datetime, actor: str,
           event_id: uuid.UUID | None = None) -> Envelope:  # fmt: skip
    return new_event(payload, key=client_id, occurred_at=now, recorded_at=now, actor=actor,
                     event_id=event_id)  # fmt: skip


async def add_carer(
    lookup: CarerLookup, client_id: str, req: CarerInput, *, team_id: str | None,
    now: datetime, actor: str,
) -> Envelope:  # fmt: skip
    """CarerRegistered (consent is separate). The same details again record nothing new."""
    await _client(lookup, client_id, team_id)
    if req.carer_id == client_id:
        raise CarerRefused(400, "carer_id", "a client is not their own carer")
    payload = CarerRegistered(client_id=client_id, **req.model_dump())
    digest = derived_id("carer", client_id, payload.model_dump_json())
    return _event(payload, client_id, now, actor, digest)


async def grant_consent(
    lookup: CarerLookup, client_id: str, carer_id: str, req: ConsentInput, *,
    team_id: str | None, now: datetime, actor: str,
) -> Envelope:  # fmt: skip
    """ConsentGranted: replaces whatever consent was in force for this carer."""
    await _carer(lookup, client_id, carer_id, team_id)
    granted = ConsentGranted(client_id=client_id, carer_id=carer_id, shares=req.shares,
                             review_by=_review_by(req.review_by, now.date()),
                             recorded_by=actor, note=req.note)  # fmt: skip
    return _event(granted, client_id, now, actor)


async def revoke_consent(
    lookup: CarerLookup, client_id: str, carer_id: str, req: RevokeInput, *,
    team_id: str | None, now: datetime, actor: str,
) -> Envelope:  # fmt: skip
    """ConsentRevoked: always recorded (a withdrawal is never refused for being early)."""
    await _carer(lookup, client_id, carer_id, team_id)
    revoked = ConsentRevoked(client_id=client_id, carer_id=carer_id, recorded_by=actor,
                             reason=req.reason)  # fmt: skip
    return _event(revoked, client_id, now, actor)


async def assess_carer(
    lookup: CarerLookup, client_id: str, carer_id: str, req: AssessmentInput, *,
    team_id: str | None, now: datetime, actor: str,
) -> Envelope:  # fmt: skip
    """CarerAssessmentRecorded: the carer's needs and support, reviewed by `review_by`
    (default a year on)."""
    await _carer(lookup, client_id, carer_id, team_id)
    today = now.date()
    review_by = _review_by(req.review_by or today + ASSESSMENT_REVIEW, today)
    assessed = CarerAssessmentRecorded(client_id=client_id, carer_id=carer_id, needs=req.needs,
                                       support=req.support, review_by=review_by,
                                       assessed_by=actor)  # fmt: skip
    return _event(assessed, client_id, now, actor)
