"""What users record about a client's risk: relapse signals (validated, consent-checked),
relapse plans and hospital admissions and discharges, each turned into one event to spool.

The HTTP API and the CLI both come through here. Bad input is refused naming the field,
a carer with no consent of the client in force (never given, or revoked) is refused, and
nothing is recorded then.
The event id derives from what was observed, so a resubmission records nothing new.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from dispatch.events import Envelope, derived_id, new_event
from dispatch.risk.events import (
    ClientRecordsViewed,
    HospitalAdmissionRecorded,
    HospitalDischargeRecorded,
    PlanAction,
    RelapsePlanRecorded,
    RelapsePlanRevised,
    RelapseSignalObserved,
    WarningSign,
)
from dispatch.risk.ports import ClientLookup, ClientRef, PlanLookup

FUTURE_SLACK = timedelta(minutes=5)


class SignalRefused(ValueError):
    """A signal that changes nothing; status is the HTTP status, field what was wrong."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.status = status
        self.field = field
        self.message = message


class SignalInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    source: Literal["staff", "carer", "system", "client"]
    sign: str = Field(min_length=1, max_length=60, pattern=r"^[a-z0-9_]+$")
    severity: int = Field(ge=1, le=5)
    occurred_at: AwareDatetime | None = None
    carer_id: str | None = Field(default=None, min_length=1, max_length=80)


class PlanInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    warning_signs: tuple[WarningSign, ...] = Field(min_length=1)
    triggers: tuple[str, ...] = ()
    actions: tuple[PlanAction, ...] = Field(min_length=1)
    revision_note: str = Field(default="", max_length=500)


class HospitalInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    occurred_at: AwareDatetime | None = None
    facility: str = Field(default="", max_length=120)


def _parse(model: type[BaseModel], data: Any) -> Any:
    if not isinstance(data, dict):
        raise SignalRefused(400, "body", "send a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "body"
        raise SignalRefused(400, field, err["msg"]) from None


def parse_signal(data: Any) -> SignalInput:
    """The request body as a SignalInput, or SignalRefused naming the first bad field."""
    result: SignalInput = _parse(SignalInput, data)
    return result


def parse_plan(data: Any) -> PlanInput:
    """A relapse-prevention plan body, or SignalRefused naming the first bad field."""
    result: PlanInput = _parse(PlanInput, data)
    return result


def parse_hospital(data: Any) -> HospitalInput:
    """An admission or discharge body (both fields optional), or SignalRefused naming the
    first bad field."""
    result: HospitalInput = _parse(HospitalInput, data)
    return result


async def hospital_event(
    lookup: ClientLookup,
    *,
    client_id: str,
    kind: Literal["admission", "discharge"],
    stay: HospitalInput,
    team_id: str | None,
    recorded_by: str,
    now: datetime,
) -> Envelope:
    """HospitalAdmissionRecorded or HospitalDischargeRecorded for a client of the team. The
    id derives from the client, the kind and when it happened: a resubmission is a no-op."""
    await _team_client(lookup, client_id, team_id)
    occurred_at = stay.occurred_at or now
    if occurred_at > now + FUTURE_SLACK:
        raise SignalRefused(400, "occurred_at", "is in the future")
    payload: HospitalAdmissionRecorded | HospitalDischargeRecorded = (
        HospitalAdmissionRecorded(client_id=client_id, facility=stay.facility)
        if kind == "admission"
        else HospitalDischargeRecorded(client_id=client_id, facility=stay.facility)
    )
    return new_event(
        payload,
        key=client_id,
        event_id=derived_id("hospital", kind, client_id, occurred_at.isoformat()),
        occurred_at=occurred_at,
        recorded_at=now,
        actor=recorded_by,
    )


async def _team_client(lookup: ClientLookup, client_id: str, team_id: str | None) -> ClientRef:
    """The client, if they exist and belong to the caller's team (None: any team, the CLI)."""
    client = await lookup.client(client_id)
    if client is None or (team_id is not None and client.team_id != team_id):
        raise SignalRefused(404, "client_id", f"no client {client_id!r} in your team")
    return client


async def plan_event(
    lookup: PlanLookup,
    *,
    client_id: str,
    plan: PlanInput,
    team_id: str | None,
    agreed_by: str,
    now: datetime,
) -> Envelope:
    """RelapsePlanRecorded for a client's first plan, RelapsePlanRevised after that. The
    same plan sent twice on one day is one event; agreeing it again later is a review."""
    await _team_client(lookup, client_id, team_id)
    fields = {
        "client_id": client_id,
        "warning_signs": plan.warning_signs,
        "triggers": plan.triggers,
        "actions": plan.actions,
        "agreed_by": agreed_by,
    }
    payload: RelapsePlanRecorded | RelapsePlanRevised = (
        RelapsePlanRevised(**fields, revision_note=plan.revision_note)
        if await lookup.has_plan(client_id)
        else RelapsePlanRecorded(**fields)
    )
    digest = hashlib.sha256(
        json.dumps(plan.model_dump(mode="json"), sort_keys=True).encode()
    ).hexdigest()
    return new_event(
        payload,
        key=client_id,
        event_id=derived_id("relapse-plan", client_id, digest, now.date().isoformat()),
        occurred_at=now,
        recorded_at=now,
        actor=agreed_by,
    )


async def signal_event(
    lookup: ClientLookup,
    *,
    client_id: str,
    signal: SignalInput,
    team_id: str | None,
    reported_by: str,
    now: datetime,
) -> Envelope:
    """The RelapseSignalObserved to spool, after the client, team and consent checks."""
    await _team_client(lookup, client_id, team_id)
    occurred_at = signal.occurred_at or now
    if occurred_at > now + FUTURE_SLACK:
        raise SignalRefused(400, "occurred_at", "is in the future")
    actor = reported_by
    if signal.source == "carer":
        if signal.carer_id is None:
            raise SignalRefused(400, "carer_id", "a carer's signal needs the carer_id")
        # The consent in force now (ConsentGranted / ConsentRevoked, as projected): a
        # revoked consent refuses the carer's next signal at once.
        consents = await lookup.carer_consents(client_id, signal.carer_id)
        if consents is None:
            raise SignalRefused(404, "carer_id", f"{signal.carer_id!r} is not this client's carer")
        if not consents:
            raise SignalRefused(
                403, "carer_id", "no consent of the client to share with this carer is in force"
            )
        actor = f"carer:{signal.carer_id}"
    elif signal.carer_id is not None:
        raise SignalRefused(400, "carer_id", "only a signal with source 'carer' names a carer")
    return new_event(
        RelapseSignalObserved(
            client_id=client_id, source=signal.source, sign=signal.sign, severity=signal.severity
        ),
        key=client_id,
        event_id=derived_id(
            "relapse-signal", client_id, signal.source, signal.sign, occurred_at.isoformat(), actor
        ),
        occurred_at=occurred_at,
        recorded_at=now,
        actor=actor,
    )


def records_viewed(
    *, team_id: str, viewer: str, view: str, client_ids: list[str], now: datetime
) -> Envelope:
    """The audit event of one read of client records (safety rule 6); every read is its own
    event, so its id is fresh."""
    return new_event(
        ClientRecordsViewed(
            team_id=team_id, viewer=viewer, view=view, client_ids=tuple(client_ids)
        ),
        key=team_id,
        occurred_at=now,
        recorded_at=now,
        actor=viewer,
    )
