"""A client's journey as a pure fold of their own events: referral, caseload, transfer,
discharge and re-referral, the care plan. The edge decides each change on this record."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from dispatch.clients.events import (
    CLIENT_PAYLOADS,
    CarePlanRecorded,
    CarePlanReviewed,
    CarerRegistered,
    ClientDischarged,
    ClientEnrolled,
    ClientReReferred,
    ClientTransferRequested,
    ContactRecorded,
    ReferralAccepted,
    ReferralDeclined,
    ReferralReceived,
    TransferCompleted,
)
from dispatch.events import Envelope

# Every client event but carers and contacts: what the journey's decisions read.
JOURNEY = tuple(c for c in CLIENT_PAYLOADS if c not in (CarerRegistered, ContactRecorded))
JOURNEY_TYPES = tuple(cls.event_type for cls in JOURNEY)
CaseloadStatus = Literal["none", "enrolled", "discharged"]
ReferralStatus = Literal["open", "accepted", "declined", "enrolled"]


class Referral(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    referral_id: uuid.UUID
    team_id: str
    display_name: str
    received_at: datetime
    status: ReferralStatus = "open"


class PendingTransfer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    to_team_id: str
    requested_at: datetime
    care_coordinator_id: str | None
    contact_target_days: float | None


class ClientRecord(BaseModel):
    """What the team knows of one client's journey after some prefix of their events."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client_id: str
    status: CaseloadStatus = "none"  # none: never on a caseload
    team_id: str | None = None  # the caseload's team (discharged: the last one)
    display_name: str | None = None
    care_coordinator_id: str | None = None
    enrolled_at: datetime | None = None  # the start of the current (or last) episode
    discharged_at: datetime | None = None
    episodes: int = 0
    referral: Referral | None = None  # the latest referral
    transfer: PendingTransfer | None = None
    care_plan_at: datetime | None = None  # when the care plan was last recorded or reviewed

    @property
    def enrolled(self) -> bool:
        return self.status == "enrolled"

    def serves(self, team_id: str) -> bool:
        """Whether the team may record contacts: its caseload, or the team it moves to."""
        if not self.enrolled:
            return False
        return team_id == self.team_id or (
            self.transfer is not None and self.transfer.to_team_id == team_id
        )


def evolve(record: ClientRecord, event: Envelope) -> ClientRecord:
    """The record after one event; events this fold does not read leave it unchanged."""
    p, at = event.payload, event.occurred_at
    u: dict[str, object] = {}
    if isinstance(p, ReferralReceived):
        u = {"referral": Referral(referral_id=p.referral_id, team_id=p.team_id,
                                  display_name=p.display_name, received_at=at)}  # fmt: skip
    elif isinstance(p, ReferralAccepted | ReferralDeclined):
        ref = record.referral
        if ref is not None and ref.referral_id == p.referral_id:
            status = "accepted" if isinstance(p, ReferralAccepted) else "declined"
            u = {"referral": ref.model_copy(update={"status": status})}
    elif isinstance(p, ClientEnrolled):
        u = _enrolled(record, p.team_id, at, p.care_coordinator_id)
        u["display_name"] = p.display_name
        ref = record.referral
        if ref is not None and ref.status == "accepted" and ref.team_id == p.team_id:
            u["referral"] = ref.model_copy(update={"status": "enrolled"})
    elif isinstance(p, ClientReReferred):
        u = _enrolled(record, p.team_id, at, p.care_coordinator_id or record.care_coordinator_id)
    elif isinstance(p, ClientTransferRequested):
        u = {"transfer": PendingTransfer(to_team_id=p.to_team_id, requested_at=at,
                                         care_coordinator_id=p.care_coordinator_id,
                                         contact_target_days=p.contact_target_days)}  # fmt: skip
    elif isinstance(p, TransferCompleted):
        u = {
            "team_id": p.to_team_id,
            "transfer": None,
            "care_coordinator_id": p.care_coordinator_id,
        }
    elif isinstance(p, ClientDischarged):
        u = {"status": "discharged", "discharged_at": at, "transfer": None}
    elif isinstance(p, CarePlanRecorded):
        u = {"care_plan_at": at, "care_coordinator_id": p.care_coordinator_id}
    elif isinstance(p, CarePlanReviewed):
        u = {"care_plan_at": at}
    return record.model_copy(update=u) if u else record


def _enrolled(
    record: ClientRecord, team_id: str, at: datetime, coordinator: str | None
) -> dict[str, object]:
    """On the team's caseload; a new episode unless already on it (an update of details)."""
    u: dict[str, object] = {
        "status": "enrolled",
        "team_id": team_id,
        "care_coordinator_id": coordinator,
    }
    if not record.enrolled:
        u |= {"enrolled_at": at, "episodes": record.episodes + 1, "transfer": None}
    return u


def fold(client_id: str, events: Iterable[Envelope]) -> ClientRecord:
    record = ClientRecord(client_id=client_id)
    for event in events:
        record = evolve(record, event)
    return record
