"""The pure risk fold: evolve(state, event) -> state, in event time only.

The score is a sum of weighted relapse signals that decays with a half-life, raised by
missed contacts, crisis contacts and a discharge, lowered by contacts (a face-to-face visit
most). At each event the time since the last face-to-face contact is set against the
client's contact target, which the enrolment (or a ContactTargetSet) carries from the team's
service model (ACT, ICM, AOT); before one is folded, the policy's default (ACT's) applies.
The fold also keeps the team's open work for the client: outreach tasks (closed by a
face-to-face contact) and post-crisis follow-ups (closed by a face-to-face or phone
contact). Replaying the same events gives every intermediate value exactly.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from dispatch.clients.events import (
    ClientDischarged,
    ClientEnrolled,
    ClientReReferred,
    ContactRecorded,
    TransferCompleted,
)
from dispatch.crisis.events import CrisisCallReceived, CrisisTextReceived
from dispatch.events.envelope import Envelope, assembled
from dispatch.risk.events import (
    ContactTargetSet,
    FollowUpOpened,
    HospitalAdmissionRecorded,
    HospitalDischargeRecorded,
    MissedContactAlerted,
    OutreachTaskCreated,
    PlanReviewOverdue,
    RelapsePlanRecorded,
    RelapsePlanRevised,
    RelapseSignalObserved,
)
from dispatch.risk.levels import DEFAULT_POLICY, RiskPolicy, higher, level_for
from dispatch.vocabulary import RiskLevel

MAX_SIGNALS = 12  # recent signals kept for the reasons; older ones only live in the score
REASON_MIN_POINTS = 0.5  # a signal decayed below this is no longer named as a reason


class SignalMark(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sign: str
    source: str
    severity: int
    points: float
    at: datetime


class RiskState(BaseModel):
    """One client's risk as the fold has it after some prefix of the client's events."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client_id: str
    team_id: str | None = None
    enrolled_at: datetime | None = None
    score: float = 0.0  # the decaying part, as of `as_of`
    as_of: datetime | None = None
    score_level: RiskLevel = "stable"  # the score's level, with hysteresis
    floor: RiskLevel | None = None  # a crisis contact holds the level up until a visit
    level: RiskLevel = "stable"
    effective: float = 0.0  # the score plus the contact-overdue part, at `as_of`
    weights: dict[str, float] = {}
    signals: tuple[SignalMark, ...] = ()
    last_face_to_face: datetime | None = None
    missed_contacts: int = 0
    last_crisis_at: datetime | None = None
    admitted: bool = False
    discharged_at: datetime | None = None
    alerted_since: datetime | None = None  # the contact gap a missed-contact alert was raised for
    team_since: datetime | None = None  # when the client was enrolled with the current team
    target_team: str | None = None  # the team whose service model set contact_target_days
    contact_target_days: float | None = None  # None: the policy's default target
    plan_reviewed_at: datetime | None = None  # when the plan in force was agreed
    review_alerted_for: datetime | None = None  # the plan version an overdue review was raised for
    last_offset: int | None = None  # the source offset of the newest event folded in
    left_caseload_at: datetime | None = None  # discharged from the team (None: on a caseload)
    last_contact_at: datetime | None = None  # the last face-to-face or phone contact
    last_contact_event: uuid.UUID | None = None
    last_face_to_face_event: uuid.UUID | None = None
    open_outreach: tuple[uuid.UUID, ...] = ()  # outreach tasks no visit has done yet
    open_follow_ups: tuple[uuid.UUID, ...] = ()  # post-crisis follow-ups no contact has closed

    @property
    def on_caseload(self) -> bool:
        return self.left_caseload_at is None


def _replace(state: RiskState, update: dict[str, object]) -> RiskState:
    """`state.model_copy(update=update)`, less its generality: a RiskState has no private
    or extra attributes, so the copy is its fields' dict with the update (unvalidated, as
    model_copy's is). Two of these per event (one since decision 041) were a sixth of the
    fold's time."""
    fields_set = state.__pydantic_fields_set__ | update.keys()
    return assembled(RiskState, {**state.__dict__, **update}, fields_set)


_MARK_FIELDS = frozenset(SignalMark.model_fields)


def _mark(sign: str, source: str, severity: int, points: float, at: datetime) -> SignalMark:
    """`SignalMark(...)` without validating again what the signal's payload was validated
    as (a str, a str, an int, the float product of a weight and it, an aware datetime)."""
    fields = {"sign": sign, "source": source, "severity": severity, "points": points, "at": at}
    return assembled(SignalMark, fields, set(_MARK_FIELDS))


def initial(client_id: str) -> RiskState:
    return RiskState(client_id=client_id)


FOLDED = (
    ClientEnrolled,
    RelapsePlanRecorded,
    RelapsePlanRevised,
    RelapseSignalObserved,
    ContactRecorded,
    CrisisCallReceived,
    CrisisTextReceived,
    HospitalAdmissionRecorded,
    HospitalDischargeRecorded,
    MissedContactAlerted,
    ContactTargetSet,
    PlanReviewOverdue,
    TransferCompleted,
    ClientDischarged,
    ClientReReferred,
    OutreachTaskCreated,
    FollowUpOpened,
)


# Folded types whose branch comes before the score: another caller's crisis contact is
# left out, the reminders of what was alerted and the open work return early.
_BEFORE_THE_SCORE = (
    CrisisCallReceived,
    CrisisTextReceived,
    MissedContactAlerted,
    PlanReviewOverdue,
    OutreachTaskCreated,
    FollowUpOpened,
)
# The other folded types, by exact type: they skip those checks (a subclass does not).
_SCORED_AT_ONCE = frozenset(FOLDED) - frozenset(_BEFORE_THE_SCORE)


def decayed(score: float, since: datetime | None, at: datetime, policy: RiskPolicy) -> float:
    """The score `at`, halved every half-life since `since`; time never runs backwards."""
    if since is None or at <= since or score == 0.0:
        return score
    return float(score * 0.5 ** ((at - since) / policy.half_life))


def contact_gap_since(state: RiskState) -> datetime | None:
    """Since when the client has gone without a face-to-face contact: the last visit, or the
    start of their time on the caseload when that is later (a re-referral)."""
    visit, enrolled = state.last_face_to_face, state.enrolled_at
    if visit is None or enrolled is None:
        return enrolled if visit is None else visit
    return visit if visit >= enrolled else enrolled


def contact_target(state: RiskState, policy: RiskPolicy = DEFAULT_POLICY) -> timedelta:
    """The client's face-to-face contact target: their team's, else the policy default."""
    days = state.contact_target_days
    return policy.contact_target if days is None else timedelta(days=days)


_DAY = timedelta(days=1)


def overdue_points(state: RiskState, at: datetime, policy: RiskPolicy) -> float:
    """Points for going longer than the contact target without a face-to-face contact."""
    if state.admitted or state.left_caseload_at is not None:  # in hospital, or off the caseload
        return 0.0
    since = contact_gap_since(state)
    if since is None:
        return 0.0
    over = (at - since - contact_target(state, policy)) / _DAY
    return min(policy.overdue_cap, over * policy.overdue_points_per_day) if over > 0 else 0.0


def evolve(
    state: RiskState,
    event: Envelope,
    policy: RiskPolicy = DEFAULT_POLICY,
    *,
    offset: int | None = None,
) -> RiskState:
    """The state after one event. Events this fold does not read leave it unchanged, and an
    event at or below the last folded offset (a redelivery) is ignored."""
    p = event.payload
    if not isinstance(p, FOLDED):
        return state
    if offset is not None and state.last_offset is not None and offset <= state.last_offset:
        return state
    if type(p) not in _SCORED_AT_ONCE:
        if isinstance(p, CrisisCallReceived | CrisisTextReceived):
            if p.client_id != state.client_id:
                return state
        elif isinstance(p, MissedContactAlerted):  # remembered so the gap is alerted once
            return _replace(state, {"alerted_since": p.since, "last_offset": offset})
        elif isinstance(p, PlanReviewOverdue):  # remembered so each plan version is flagged once
            return _replace(state, {"review_alerted_for": p.reviewed_at, "last_offset": offset})
        elif isinstance(p, OutreachTaskCreated | FollowUpOpened):
            return _open_work(state, event, offset)
    at = event.occurred_at if state.as_of is None else max(state.as_of, event.occurred_at)
    score = decayed(state.score, state.as_of, at, policy)
    u: dict[str, object] = {}
    if isinstance(p, RelapseSignalObserved):  # the commonest first; the types are disjoint
        points = state.weights.get(p.sign, 1.0) * p.severity
        score += decayed(points, event.occurred_at, at, policy)  # a late report has decayed
        mark = _mark(p.sign, p.source, p.severity, points, event.occurred_at)
        u = {"signals": (*state.signals, mark)[-MAX_SIGNALS:]}
    elif isinstance(p, ClientEnrolled | ClientReReferred | TransferCompleted):
        u = _joined(state, event)
    elif isinstance(p, ClientDischarged):
        u = {"left_caseload_at": event.occurred_at, "open_outreach": (), "open_follow_ups": ()}
    elif isinstance(p, ContactTargetSet):
        if p.team_id == state.team_id:  # a target for a team the client has left is stale
            u = {"contact_target_days": p.target_days, "target_team": p.team_id}
    elif isinstance(p, RelapsePlanRecorded | RelapsePlanRevised):
        reviewed = event.occurred_at
        if state.plan_reviewed_at is not None:
            reviewed = max(reviewed, state.plan_reviewed_at)
        u = {"weights": {w.sign: w.weight for w in p.warning_signs}, "plan_reviewed_at": reviewed}
    elif isinstance(p, ContactRecorded):
        reached = {
            "last_contact_at": at,
            "last_contact_event": event.event_id,
            "open_follow_ups": (),
        }
        if p.kind == "face_to_face":
            score *= policy.visit_factor
            u = {
                **reached,
                "floor": None,
                "last_face_to_face": at,
                "last_face_to_face_event": event.event_id,
                "missed_contacts": 0,
                "open_outreach": (),
            }
        elif p.kind == "phone":
            score = max(0.0, score - policy.phone_relief)
            u = reached
        else:
            score += policy.missed_contact_points
            u = {"missed_contacts": state.missed_contacts + 1}
    elif isinstance(p, CrisisCallReceived | CrisisTextReceived):
        score += policy.crisis_contact_points
        u = {"floor": "crisis", "last_crisis_at": event.occurred_at}
    elif isinstance(p, HospitalAdmissionRecorded):
        u = {"admitted": True}
    elif isinstance(p, HospitalDischargeRecorded):
        score += policy.discharge_points
        u = {"admitted": False, "discharged_at": event.occurred_at}
    after = _replace(state, {**u, "score": score, "as_of": at, "last_offset": offset})
    effective = score + overdue_points(after, at, policy)
    score_level = level_for(effective, state.score_level, policy)
    # `after` is new and nobody else holds it yet: its levels are set in place, not copied
    levels = {"effective": effective, "score_level": score_level}
    levels["level"] = higher(score_level, after.floor)
    after.__dict__.update(levels)
    after.__pydantic_fields_set__.update(levels)
    return after


def _joined(state: RiskState, event: Envelope) -> dict[str, object]:
    """On a team's caseload: enrolled, back after a discharge, or moved by a transfer. The
    team's contact target comes with it when the event carries one."""
    p = event.payload
    assert isinstance(p, ClientEnrolled | ClientReReferred | TransferCompleted)
    team = p.to_team_id if isinstance(p, TransferCompleted) else p.team_id
    u: dict[str, object] = {"team_id": team}
    if isinstance(p, ClientEnrolled):
        u["enrolled_at"] = state.enrolled_at or event.occurred_at
    if not isinstance(p, TransferCompleted) and not state.on_caseload:
        u |= {"enrolled_at": event.occurred_at, "left_caseload_at": None}  # a new episode
    if team != state.team_id:
        u["team_since"] = event.occurred_at
    if p.contact_target_days is not None:
        u |= {"contact_target_days": p.contact_target_days, "target_team": team}
    return u


def _open_work(state: RiskState, event: Envelope, offset: int | None) -> RiskState:
    """An outreach task or a follow-up joins the open work, unless the contact that does it
    was folded first (the task comes back from the agent after the events it followed)."""
    p = event.payload
    if isinstance(p, OutreachTaskCreated):
        done = state.last_face_to_face is not None and state.last_face_to_face >= event.occurred_at
        field, item = "open_outreach", p.task_id
    else:
        assert isinstance(p, FollowUpOpened)
        done = state.last_contact_at is not None and state.last_contact_at >= event.occurred_at
        field, item = "open_follow_ups", p.follow_up_id
    now_open: tuple[uuid.UUID, ...] = getattr(state, field)
    if not done and item not in now_open and state.on_caseload:
        now_open = (*now_open, item)
    return _replace(state, {field: now_open, "last_offset": offset})


def current_score(state: RiskState, at: datetime, policy: RiskPolicy = DEFAULT_POLICY) -> float:
    """The score as it stands at `at`: the decaying part decayed to then, plus the points for
    being past the contact target then (what the huddle board shows when it is read)."""
    if state.as_of is None:
        return 0.0
    when = max(at, state.as_of)
    return decayed(state.score, state.as_of, when, policy) + overdue_points(state, when, policy)


def _minute(at: datetime) -> str:
    """`f"{at:%Y-%m-%d %H:%M}"` (the clock time as the datetime holds it) without strftime,
    which took most of `reasons`' time."""
    return at.isoformat(" ", "minutes")[:16]


def reasons(state: RiskState, policy: RiskPolicy = DEFAULT_POLICY) -> tuple[str, ...]:
    """Why the client is where they are: the signs, contacts and calls still counting."""
    out: list[str] = []
    at = state.as_of
    if at is None:
        return ()
    if state.floor is not None and state.last_crisis_at is not None:
        out.append(f"crisis contact {_minute(state.last_crisis_at)}Z, no visit since")
    half_life = policy.half_life
    for s in reversed(state.signals):  # decayed(s.points, s.at, at, policy), inline
        points, marked = s.points, s.at
        if at > marked and points != 0.0:
            points = float(points * 0.5 ** ((at - marked) / half_life))
        if points >= REASON_MIN_POINTS:
            out.append(f"{s.sign} ({s.source}, severity {s.severity}) {_minute(marked)}Z")
    if state.missed_contacts:
        out.append(f"{state.missed_contacts} missed contact(s) since the last visit")
    over = overdue_points(state, at, policy)
    if over > 0:
        since = contact_gap_since(state)
        assert since is not None
        days = (at - since).days
        target = contact_target(state, policy) / _DAY
        out.append(f"no face-to-face contact for {days} days (target {target:g})")
    if (
        state.discharged_at is not None
        and decayed(policy.discharge_points, state.discharged_at, at, policy) >= REASON_MIN_POINTS
    ):
        out.append(f"discharged from hospital {state.discharged_at:%Y-%m-%d}")
    if state.last_face_to_face == at:
        out.append(f"face-to-face visit {_minute(at)}Z")
    if state.admitted:
        out.append("in hospital")
    return tuple(out)
