"""What the system believed at an instant, rebuilt by replaying the archive through the
same pure folds the live system runs (rota and on-call, escalation, risk).

Bitemporal: only events recorded by the instant are applied, in event-time order. An event
that happened before the instant but was recorded after it is listed as late-arriving and
not applied: nobody on call could have known it then.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from dispatch.clients.consent import consent_at
from dispatch.clients.events import CONSENT_SHARES, CarerRegistered, ConsentGranted, ConsentRevoked
from dispatch.escalation.policy import EscalationPolicy
from dispatch.escalation.state import EscalationState
from dispatch.escalation.state import evolve as evolve_dispatch
from dispatch.events import Envelope
from dispatch.review.facts import Archived, ReviewModel, envelope_of, event_time_order
from dispatch.risk.events import RelapsePlanRecorded, RelapsePlanRevised
from dispatch.risk.fold import FOLDED, RiskState, initial, reasons
from dispatch.risk.fold import evolve as evolve_risk
from dispatch.rota.oncall import LAYERS, on_call
from dispatch.rota.state import RotaState
from dispatch.rota.state import evolve as evolve_rota


class OnCallThen(ReviewModel):
    team_id: str
    layer: str
    staff_id: str | None
    source: str
    covered: bool
    fallback_team_id: str | None
    fallback_number: str | None


class DispatchThen(ReviewModel):
    """An open (or acknowledged, unresolved) dispatch with its frozen policy and position."""

    short_code: str
    dispatch_id: uuid.UUID
    team_id: str
    client_id: str | None
    status: str
    reason: str
    policy: EscalationPolicy | None
    sequence: int
    round: int
    step: int
    exhausted: bool
    deadline_at: datetime | None
    paged: tuple[str, ...]
    acknowledged_by: str | None


class ClientThen(ReviewModel):
    client_id: str
    team_id: str | None
    level: str
    score: float
    reasons: tuple[str, ...]
    plan_version: int
    plan_agreed_at: datetime | None
    in_hospital: bool
    consent: tuple[str, ...]


class LateEvent(ReviewModel):
    type: str
    key: str
    occurred_at: datetime
    recorded_at: datetime


class AsOf(ReviewModel):
    at: datetime
    team_id: str | None
    events_applied: int
    unknown_types: tuple[str, ...]
    on_call: tuple[OnCallThen, ...]
    open_dispatches: tuple[DispatchThen, ...]
    clients: tuple[ClientThen, ...]
    late_arriving: tuple[LateEvent, ...]


def _consents(events: Sequence[Envelope], at: datetime) -> dict[str, tuple[str, ...]]:
    """Per client, each carer's consent in force at `at`, by the live system's own fold
    (dispatch/clients/consent.py): what may be shared and when to review it, or none."""
    carers = sorted({(p.client_id, p.carer_id) for e in events
                     if isinstance(p := e.payload, CarerRegistered | ConsentGranted
                                   | ConsentRevoked)})  # fmt: skip
    out: dict[str, tuple[str, ...]] = {}
    for client, carer in carers:
        found = consent_at(events, client_id=client, carer_id=carer, at=at)
        if found is None:
            said = f"{carer}: no consent"
        else:
            shares = ", ".join(s for s in CONSENT_SHARES if found.allows(s))
            review = f" (review by {found.review_by.isoformat()})" if found.review_by else ""
            said = f"{carer}: shares {shares}{review}"
        out[client] = (*out.get(client, ()), said)
    return out


def _dispatches(events: Sequence[Envelope]) -> list[tuple[EscalationState, str | None]]:
    states: dict[str, EscalationState | None] = {}
    clients: dict[str, str | None] = {}
    for e in events:
        did = getattr(e.payload, "dispatch_id", None)
        if did is None:
            continue
        if e.type == "DispatchOpened":
            clients[str(did)] = getattr(e.payload, "client_id", None)
        states[str(did)] = evolve_dispatch(states.get(str(did)), e)
    return [(s, clients.get(d)) for d, s in states.items() if s is not None]


def _risks(events: Sequence[Envelope]) -> tuple[dict[str, RiskState], dict[str, list[Envelope]]]:
    states: dict[str, RiskState] = {}
    plans: dict[str, list[Envelope]] = {}
    for e in events:
        client = getattr(e.payload, "client_id", None)
        if not isinstance(e.payload, FOLDED) or client is None:
            continue
        states[client] = evolve_risk(states.get(client) or initial(client), e)
        if isinstance(e.payload, RelapsePlanRecorded | RelapsePlanRevised):
            plans.setdefault(client, []).append(e)
    return states, plans


def believed_at(facts: Sequence[Archived], at: datetime, team_id: str | None = None) -> AsOf:
    """The state at `at` from the events recorded by then (team_id None: every team)."""
    ordered = event_time_order(facts)
    known = [f for f in ordered if f.recorded_at <= at]
    late = [f for f in ordered if f.recorded_at > at and f.occurred_at <= at]
    decoded = [(f, envelope_of(f)) for f in known]
    events = [e for _, e in decoded if e is not None]
    rota = RotaState()
    for e in events:
        rota = evolve_rota(rota, e)
    teams = [team_id] if team_id else sorted(rota.teams)
    calls = [on_call(rota.team(t), layer, at) for t in teams for layer in LAYERS]
    mine = (lambda t: t == team_id) if team_id else (lambda t: True)
    risks, plans = _risks(events)
    consents = _consents(events, at)
    return AsOf(
        at=at,
        team_id=team_id,
        events_applied=len(events),
        unknown_types=tuple(sorted({f.type for f, e in decoded if e is None})),
        on_call=tuple(
            OnCallThen(team_id=c.team_id, layer=c.layer, staff_id=c.staff_id, source=c.source,
                       covered=c.covered, fallback_team_id=c.fallback_team_id,
                       fallback_number=c.fallback_number)
            for c in calls
        ),
        open_dispatches=tuple(
            DispatchThen(short_code=s.short_code, dispatch_id=s.dispatch_id, team_id=s.team_id,
                         client_id=client, status=s.status, reason=s.reason, policy=s.policy,
                         sequence=s.sequence, round=s.round, step=s.step, exhausted=s.exhausted,
                         deadline_at=s.deadline_at, paged=s.paged,
                         acknowledged_by=s.acknowledged_by)
            for s, client in _dispatches(events)
            if s.status != "resolved" and mine(s.team_id)
        ),
        clients=tuple(
            ClientThen(client_id=c, team_id=r.team_id, level=r.level, score=round(r.effective, 2),
                       reasons=reasons(r), plan_version=len(plans.get(c, ())),
                       plan_agreed_at=r.plan_reviewed_at, in_hospital=r.admitted,
                       consent=consents.get(c, ()))
            for c, r in sorted(risks.items())
            if r.team_id is not None and mine(r.team_id)
        ),
        late_arriving=tuple(
            LateEvent(type=f.type, key=f.key, occurred_at=f.occurred_at, recorded_at=f.recorded_at)
            for f in late
        ),
    )  # fmt: skip
