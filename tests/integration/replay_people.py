"""Generated teams and clients for tests/integration/replay_history.py: a roster and rota
per team, and clients whose episodes move through the journey, risk and open work."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from dispatch.clients.events import (
    CarePlanRecorded,
    CarePlanReviewed,
    CarerAssessmentRecorded,
    CarerRegistered,
    ClientDischarged,
    ClientEnrolled,
    ClientReReferred,
    ClientTransferRequested,
    ConsentGranted,
    ConsentRevoked,
    ContactRecorded,
    ReferralAccepted,
    ReferralReceived,
    TransferCompleted,
)
from dispatch.escalation.events import EscalationPolicySet
from dispatch.escalation.policy import EscalationPolicy, EscalationStep
from dispatch.risk.events import (
    ClientRecordsViewed,
    ContactTargetSet,
    HospitalAdmissionRecorded,
    HospitalDischargeRecorded,
    MissedContactAlerted,
    OutreachTaskClosed,
    OutreachTaskCreated,
    RelapsePlanRecorded,
    RelapsePlanRevised,
    RelapseSignalObserved,
    RiskLevelChanged,
    WarningSign,
)
from dispatch.rota.events import (
    CoverageSet,
    OverrideCancelled,
    OverrideScheduled,
    RotationDefined,
    StaffJoined,
    StaffLeft,
    StaffRegistered,
    StaffRoleChanged,
    TeamFormed,
)
from dispatch.team.events import TeamMeetingHeld
from dispatch.vocabulary import RiskLevel

if TYPE_CHECKING:
    from tests.integration.replay_history import Shape, Writer

LEVELS: tuple[RiskLevel, ...] = ("stable", "elevated", "high", "crisis")
SCORE = {"stable": 1.0, "elevated": 5.0, "high": 9.5, "crisis": 15.0}
SIGNS = ("sleep_loss", "missed_meds", "withdrawal", "carer_concern")
POLICY = EscalationPolicy(
    steps=(
        EscalationStep(targets=("primary",), ack_timeout_s=300),
        EscalationStep(targets=("backup",), channels=("sms", "voice"), ack_timeout_s=300),
    ),
    rounds=2,
)


@dataclass
class Client:
    client_id: str
    team_id: str
    level: RiskLevel = "stable"
    enrolled: bool = True
    in_hospital: bool = False
    carer: str | None = None
    plan: bool = False
    care_plan: bool = False
    open_tasks: list[uuid.UUID] = field(default_factory=list)
    open_follow_ups: list[uuid.UUID] = field(default_factory=list)


@dataclass
class Team:
    team_id: str
    number: int
    staff: list[str]
    phones: dict[str, str]
    clients: list[Client]
    left: list[str] = field(default_factory=list)

    @property
    def on_duty(self) -> list[str]:
        return [s for s in self.staff if s not in self.left]


def team(w: Writer, shape: Shape, i: int, t0: datetime) -> Team:
    """A team formed at t0: staff, coverage, a policy, daily rotations, its clients."""
    tid = f"gen-t{i}" if shape.number == 0 else f"gen{shape.number}-t{i}"
    staff = [f"{tid}-s{j}" for j in range(shape.staff_per_team)]
    phones = {s: f"+1555{shape.number:03d}{i:02d}{j:03d}" for j, s in enumerate(staff)}
    w.add(
        TeamFormed(
            team_id=tid,
            name=f"Team {i}",
            service_model="ACT",
            time_zone="Europe/London",
            fallback_number=f"+15550{i:02d}9999",
            crisis_line_number=f"+15550{i:02d}0001",
        ),
        tid,
        t0,
    )
    w.add(CoverageSet(team_id=tid, all_day=True, fallback_number=f"+15550{i:02d}9999"), tid, t0)
    w.add(EscalationPolicySet(team_id=tid, policy=POLICY), tid, t0)
    for j, s in enumerate(staff):
        w.add(
            StaffRegistered(
                staff_id=s,
                team_id=tid,
                display_name=f"Staff {i}.{j}",
                role="team_lead" if j == 0 else "nurse",
                gender="female" if j % 2 else "male",
                phone=phones[s],
            ),
            tid,
            t0,
        )
    for layer, order in (("primary", staff), ("backup", staff[::-1])):
        w.add(
            RotationDefined(
                team_id=tid,
                rotation_id=f"{tid}-{layer}",
                layer=layer,
                period="daily",
                handoff_time=time(9, 0),
                participants=tuple(order),
                starts_at=t0,
            ),
            tid,
            t0,
        )
    out = Team(tid, i, staff, phones, [])
    for k in range(shape.clients_per_team):
        out.clients.append(_enrol(w, out, f"{tid}-c{k}", t0 + timedelta(minutes=k)))
    return out


def _enrol(w: Writer, t: Team, cid: str, at: datetime) -> Client:
    referral = w.uuid()
    w.add(
        ReferralReceived(
            referral_id=referral,
            client_id=cid,
            team_id=t.team_id,
            display_name=cid.upper(),
            source="cmht",
            source_team="CMHT North",
            criteria_met=("severe_mental_illness",),
        ),
        cid,
        at,
    )
    w.add(ReferralAccepted(referral_id=referral, client_id=cid, team_id=t.team_id), cid, at)
    phone = f"+1556{t.number:02d}{len(t.clients):05d}"
    w.add(
        ClientEnrolled(
            client_id=cid,
            team_id=t.team_id,
            display_name=cid.upper(),
            phone=phone,
            care_coordinator_id=t.staff[0],
            contact_target_days=3.0,
            referral_id=referral,
        ),
        cid,
        at,
    )
    w.add(
        ContactTargetSet(client_id=cid, team_id=t.team_id, service_model="ACT", target_days=3.0),
        cid,
        at,
    )
    return Client(cid, t.team_id)


def meeting(w: Writer, t: Team, at: datetime) -> None:
    w.add(
        TeamMeetingHeld(
            team_id=t.team_id,
            held_on=at.date(),
            attendees=tuple(t.on_duty[:3]),
            clients_reviewed=len(t.clients),
        ),
        t.team_id,
        at,
    )


def _risk(w: Writer, c: Client, at: datetime, to: RiskLevel, cause_id: uuid.UUID) -> None:
    if to == c.level:
        return
    w.add(
        RiskLevelChanged(
            client_id=c.client_id,
            team_id=c.team_id,
            from_level=c.level,
            to_level=to,
            score=SCORE[to],
            reasons=(f"{to} by the fold",),
            trigger_event_id=cause_id,
        ),
        c.client_id,
        at,
    )
    if to == "elevated" and not c.in_hospital:
        task = w.uuid()
        c.open_tasks.append(task)
        w.add(
            OutreachTaskCreated(
                task_id=task,
                client_id=c.client_id,
                team_id=c.team_id,
                reasons=("elevated",),
                due_by=at.date().isoformat(),
                notified_staff_id=None,
            ),
            c.client_id,
            at,
        )
    c.level = to


def contact(w: Writer, t: Team, c: Client, at: datetime, kind: str = "face_to_face") -> None:
    staff = w.rnd.sample(t.on_duty, k=min(2, len(t.on_duty))) or t.staff[:1]
    visit = w.add(
        ContactRecorded(
            client_id=c.client_id,
            staff_id=staff[0],
            kind=kind,
            other_staff_ids=tuple(staff[1:]),
            team_id=c.team_id,
            where=w.rnd.choice(("home", "community", "office")),
            minutes=w.rnd.randint(10, 90),
        ),
        c.client_id,
        at,
    )
    if kind == "face_to_face":
        for task in c.open_tasks:
            w.add(
                OutreachTaskClosed(
                    task_id=task,
                    client_id=c.client_id,
                    team_id=c.team_id,
                    contact_event_id=visit.event_id,
                ),
                c.client_id,
                at,
            )
        c.open_tasks.clear()
        _risk(w, c, at, "stable", visit.event_id)
    if kind != "attempted":
        from tests.integration.replay_incidents import close_follow_ups

        close_follow_ups(w, c, at, visit)


def episode(w: Writer, t: Team, teams: list[Team], at: datetime) -> None:
    """One thing happening to one of the team's clients (or to the team's staff)."""
    c = w.rnd.choice(t.clients)
    kind = w.rnd.choice(
        (
            "signal",
            "signal",
            "signal",
            "contact",
            "contact",
            "phone",
            "plan",
            "carer",
            "consent",
            "hospital",
            "missed",
            "care_plan",
            "staff",
            "override",
            "transfer",
            "discharge",
            "read",
        )
    )
    if not c.enrolled and kind not in ("discharge", "read"):
        kind = "contact"
    key = c.client_id
    if kind == "signal":
        sign = w.add(
            RelapseSignalObserved(
                client_id=key,
                source="staff",
                sign=w.rnd.choice(SIGNS),
                severity=w.rnd.randint(1, 5),
            ),
            key,
            at,
        )
        step = LEVELS[min(3, LEVELS.index(c.level) + 1)]
        _risk(w, c, at, step if w.rnd.random() < 0.6 else c.level, sign.event_id)
    elif kind in ("contact", "phone"):
        contact(w, t, c, at, "face_to_face" if kind == "contact" else "phone")
    elif kind == "plan":
        cls = RelapsePlanRevised if c.plan else RelapsePlanRecorded
        w.add(
            cls(
                client_id=key,
                warning_signs=(WarningSign(sign="sleep_loss", weight=2.0),),
                agreed_by=t.staff[0],
            ),
            key,
            at,
        )
        c.plan = True
    elif kind in ("carer", "consent"):
        _carer(w, t, c, at)
    elif kind == "hospital":
        cls2 = HospitalDischargeRecorded if c.in_hospital else HospitalAdmissionRecorded
        w.add(cls2(client_id=key, facility="General"), key, at)
        c.in_hospital = not c.in_hospital
    elif kind == "missed":
        w.add(
            MissedContactAlerted(
                client_id=key, team_id=c.team_id, since=at - timedelta(days=3), target_days=3.0
            ),
            key,
            at,
        )
    elif kind == "care_plan":
        if c.care_plan:
            w.add(
                CarePlanReviewed(
                    client_id=key, team_id=c.team_id, note="reviewed", goals=("housing", "work")
                ),
                key,
                at,
            )
        else:
            w.add(
                CarePlanRecorded(
                    client_id=key,
                    team_id=c.team_id,
                    summary="plan",
                    care_coordinator_id=t.staff[0],
                    goals=("housing",),
                ),
                key,
                at,
            )
        c.care_plan = True
    elif kind == "staff":
        _staff_change(w, t, at)
    elif kind == "override":
        _override(w, t, at)
    elif kind == "transfer":
        _transfer(w, c, teams, at)
    elif kind == "discharge":
        _discharge(w, t, c, at)
    else:
        w.add(
            ClientRecordsViewed(
                team_id=t.team_id, viewer="cli:generated", view="huddle_board", client_ids=(key,)
            ),
            t.team_id,
            at,
        )


def _carer(w: Writer, t: Team, c: Client, at: datetime) -> None:
    key = c.client_id
    if c.carer is None:
        c.carer = f"{key}-carer"
        w.add(
            CarerRegistered(
                client_id=key,
                carer_id=c.carer,
                display_name="Carer",
                phone=f"+1557{t.number:02d}{t.clients.index(c):05d}",
                relationship="parent",
            ),
            key,
            at,
        )
        w.add(
            CarerAssessmentRecorded(
                client_id=key,
                carer_id=c.carer,
                needs=("respite",),
                review_by=(at + timedelta(days=300)).date(),
                assessed_by=t.staff[0],
            ),
            key,
            at,
        )
    elif w.rnd.random() < 0.5:
        w.add(
            ConsentGranted(
                client_id=key,
                carer_id=c.carer,
                shares=("crisis_status",),
                review_by=(at + timedelta(days=180)).date(),
                recorded_by=t.staff[0],
            ),
            key,
            at,
        )
    else:
        w.add(ConsentRevoked(client_id=key, carer_id=c.carer, recorded_by=t.staff[0]), key, at)


def _staff_change(w: Writer, t: Team, at: datetime) -> None:
    s = w.rnd.choice(t.staff[1:])
    if s in t.left:
        w.add(
            StaffJoined(
                staff_id=s,
                team_id=t.team_id,
                display_name=s,
                role="nurse",
                gender="female",
                phone=t.phones[s],
            ),
            t.team_id,
            at,
        )
        t.left.remove(s)
    elif w.rnd.random() < 0.5 and len(t.on_duty) > 2:
        w.add(StaffLeft(staff_id=s, team_id=t.team_id, left_at=at, reason="moved"), t.team_id, at)
        t.left.append(s)
    else:
        w.add(
            StaffRoleChanged(
                staff_id=s, team_id=t.team_id, role="social_worker", previous_role="nurse"
            ),
            t.team_id,
            at,
        )


def _override(w: Writer, t: Team, at: datetime) -> None:
    oid = f"{t.team_id}-o{w.rnd.randint(0, 5)}"
    if w.rnd.random() < 0.3:
        w.add(OverrideCancelled(team_id=t.team_id, override_id=oid), t.team_id, at)
        return
    w.add(
        OverrideScheduled(
            team_id=t.team_id,
            override_id=oid,
            layer="primary",
            staff_id=w.rnd.choice(t.on_duty),
            starts_at=at,
            ends_at=at + timedelta(hours=8),
        ),
        t.team_id,
        at,
    )


def _transfer(w: Writer, c: Client, teams: list[Team], at: datetime) -> None:
    others = [x for x in teams if x.team_id != c.team_id]
    if not others:
        return
    to = w.rnd.choice(others)
    key = c.client_id
    w.add(
        ClientTransferRequested(
            client_id=key, from_team_id=c.team_id, to_team_id=to.team_id, contact_target_days=3.0
        ),
        key,
        at,
    )
    later = at + timedelta(hours=w.rnd.randint(1, 30))
    visit = w.add(
        ContactRecorded(
            client_id=key, staff_id=to.staff[0], kind="face_to_face", team_id=to.team_id
        ),
        key,
        later,
    )
    w.add(
        TransferCompleted(
            client_id=key,
            from_team_id=c.team_id,
            to_team_id=to.team_id,
            contact_event_id=visit.event_id,
            care_coordinator_id=to.staff[0],
            contact_target_days=3.0,
        ),
        key,
        later,
    )
    c.team_id = to.team_id


def _discharge(w: Writer, t: Team, c: Client, at: datetime) -> None:
    key = c.client_id
    if c.enrolled:
        w.add(ClientDischarged(client_id=key, team_id=c.team_id, reason="recovered"), key, at)
    else:
        w.add(
            ClientReReferred(
                client_id=key, team_id=c.team_id, source="gp", care_coordinator_id=t.staff[0]
            ),
            key,
            at,
        )
    c.enrolled = not c.enrolled
