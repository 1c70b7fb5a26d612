"""Events of the risk area (key: client id, topic act.client-events), and the audit of
reads of client records (key: team id, topic act.audit-events)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from dispatch.events.envelope import EventPayload
from dispatch.vocabulary import RiskLevel, ServiceModel


class RelapseSignalObserved(EventPayload):
    """An early warning sign was seen (by staff, a carer, the client or a system)."""

    event_type = "RelapseSignalObserved"
    client_id: str
    source: Literal["staff", "carer", "system", "client"]
    sign: str
    severity: int = Field(ge=1, le=5)


class WarningSign(BaseModel):
    """One personal early warning sign of a plan and the weight it carries for this client."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sign: str = Field(min_length=1, max_length=60, pattern=r"^[a-z0-9_]+$")
    weight: float = Field(default=1.0, ge=0.0, le=5.0)
    description: str = Field(default="", max_length=200)


class PlanAction(BaseModel):
    """What the team agreed to do when the signs show: who to contact, what to offer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    contact: str = Field(min_length=1, max_length=120)
    offer: str = Field(min_length=1, max_length=200)


class _RelapsePlan(EventPayload):
    client_id: str
    warning_signs: tuple[WarningSign, ...] = ()
    triggers: tuple[str, ...] = ()
    actions: tuple[PlanAction, ...] = ()
    agreed_by: str = Field(min_length=1)


class RelapsePlanRecorded(_RelapsePlan):
    """A client's first relapse-prevention plan; its review is due six months later."""

    event_type = "RelapsePlanRecorded"


class RelapsePlanRevised(_RelapsePlan):
    """A reviewed plan replaces the previous one whole; the next review is due six months on."""

    event_type = "RelapsePlanRevised"
    revision_note: str = ""


class HospitalAdmissionRecorded(EventPayload):
    """The client was admitted to hospital: no outreach, dispatches or contact alerts."""

    event_type = "HospitalAdmissionRecorded"
    client_id: str
    facility: str = ""


class HospitalDischargeRecorded(EventPayload):
    """The client left hospital: a risky time, so the score rises."""

    event_type = "HospitalDischargeRecorded"
    client_id: str
    facility: str = ""


class ContactTargetSet(EventPayload):
    """How long the client may go without a face-to-face contact, from the service model of
    the team they are enrolled with (ACT 3 days, ICM 7). Raised by the risk timer when a
    client is enrolled with (or moves to) a team; until then the fold uses the ACT target."""

    event_type = "ContactTargetSet"
    client_id: str
    team_id: str
    service_model: ServiceModel
    target_days: float = Field(gt=0, le=60)


class PlanReviewOverdue(EventPayload):
    """The relapse plan agreed at `reviewed_at` was not reviewed within six months.

    Raised once per plan version by the risk timer; occurred_at is when the review fell due."""

    event_type = "PlanReviewOverdue"
    client_id: str
    team_id: str | None
    reviewed_at: AwareDatetime


class ClientRecordsViewed(EventPayload):
    """Someone read client records (safety rule 6): who, in which role, which clients, how.

    Keyed by the team; the event archive is the audit trail."""

    event_type = "ClientRecordsViewed"
    team_id: str
    viewer: str = Field(description="the role and a token hint or CLI user, never the token")
    view: str = Field(description="what was read, e.g. 'huddle_board'")
    client_ids: tuple[str, ...]


class RiskLevelChanged(EventPayload):
    """The risk agent moved a client's level; reasons say which signs and contacts did it."""

    event_type = "RiskLevelChanged"
    client_id: str
    team_id: str | None
    from_level: RiskLevel
    to_level: RiskLevel
    score: float
    reasons: tuple[str, ...]
    trigger_event_id: uuid.UUID


class OutreachTaskCreated(EventPayload):
    """A same-day outreach visit for the team, opened when a client becomes elevated."""

    event_type = "OutreachTaskCreated"
    task_id: uuid.UUID
    client_id: str
    team_id: str | None
    reason: Literal["risk_elevated"] = "risk_elevated"
    reasons: tuple[str, ...]
    due_by: str = Field(description="same day: the ISO date (UTC) the visit is due on")
    notified_staff_id: str | None


ClosedBy = Literal["contact", "discharge"]


class OutreachTaskClosed(EventPayload):
    """A face-to-face contact did the outreach visit a task asked for (or the client left
    the caseload)."""

    event_type = "OutreachTaskClosed"
    task_id: uuid.UUID
    client_id: str
    team_id: str | None
    closed_by: ClosedBy = "contact"
    contact_event_id: uuid.UUID | None = None


class FollowUpOpened(EventPayload):
    """A crisis dispatch about the client was resolved: the team owes them a contact (face to
    face or by phone) by `due_at`. Keyed by the client; the id derives from the dispatch."""

    event_type = "FollowUpOpened"
    follow_up_id: uuid.UUID
    client_id: str
    team_id: str
    dispatch_id: uuid.UUID
    reason: Literal["post_crisis"] = "post_crisis"
    due_at: AwareDatetime


class FollowUpClosed(EventPayload):
    """A contact with the client (face to face or by phone) closed the follow-up (or the
    client left the caseload)."""

    event_type = "FollowUpClosed"
    follow_up_id: uuid.UUID
    client_id: str
    team_id: str | None
    closed_by: ClosedBy = "contact"
    contact_event_id: uuid.UUID | None = None


class MissedContactAlerted(EventPayload):
    """No face-to-face contact within the team's target since `since` (a visit or enrolment).

    Raised once per gap by the risk timer; occurred_at is when the target ran out."""

    event_type = "MissedContactAlerted"
    client_id: str
    team_id: str | None
    since: AwareDatetime
    target_days: float


RISK_PAYLOADS: tuple[type[EventPayload], ...] = (
    RelapseSignalObserved,
    MissedContactAlerted,
    ContactTargetSet,
    PlanReviewOverdue,
    ClientRecordsViewed,
    RelapsePlanRecorded,
    RelapsePlanRevised,
    HospitalAdmissionRecorded,
    HospitalDischargeRecorded,
    RiskLevelChanged,
    OutreachTaskCreated,
    OutreachTaskClosed,
    FollowUpOpened,
    FollowUpClosed,
)
