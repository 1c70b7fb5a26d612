"""Risk decisions: level changes with reasons, outreach tasks, urgent dispatches, intake."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dispatch.crisis.decide import Responder
from dispatch.crisis.events import DispatchOpened
from dispatch.events import Envelope
from dispatch.paging.events import PageRequested
from dispatch.risk.board import render_board
from dispatch.risk.decide import decide, missed_contact
from dispatch.risk.events import HospitalAdmissionRecorded, OutreachTaskCreated, RiskLevelChanged
from dispatch.risk.fold import RiskState, evolve, initial
from dispatch.risk.intake import SignalRefused, parse_plan, parse_signal, plan_event, signal_event
from dispatch.risk.ports import ClientRef, HuddleRow
from dispatch.risk.service import RiskEngine
from tests.unit.risk_builders import CLIENT, TEAM, at, contact, crisis_call, enrolled, ev, sign

NURSE = Responder(staff_id="s-nurse", phone="+15550001001")
NOW = at(100)


def step(state: RiskState, event: Envelope) -> tuple[RiskState, list[Envelope]]:
    after = evolve(state, event)
    return after, decide(state, after, event, responder=NURSE, now=NOW)


def elevated_client() -> tuple[RiskState, Envelope]:
    s = evolve(initial(CLIENT), enrolled(0))
    s = evolve(s, sign(1, "sleep_loss", 2))
    s = evolve(s, sign(20, "withdrawal", 2))
    return s, sign(40, "missed_meds", 2)


def test_becoming_elevated_creates_an_outreach_task_and_a_non_urgent_sms() -> None:
    """Elevated: a level change with its reasons, a same-day task, an SMS without details."""
    before, trigger = elevated_client()
    _after, events = step(before, trigger)
    assert [e.type for e in events] == ["RiskLevelChanged", "OutreachTaskCreated", "PageRequested"]
    changed, task, sms = (e.payload for e in events)
    assert isinstance(changed, RiskLevelChanged) and changed.to_level == "elevated"
    assert any("missed_meds" in r for r in changed.reasons)
    assert isinstance(task, OutreachTaskCreated) and task.due_by == "2026-11-04"
    assert isinstance(sms, PageRequested) and sms.dispatch_id == task.task_id
    assert "OUTREACH" in sms.body and CLIENT not in sms.body and len(sms.body) <= 160


def test_no_one_on_duty_still_creates_the_task() -> None:
    """Outside covered hours the task is on the board but nobody is texted."""
    before, trigger = elevated_client()
    after = evolve(before, trigger)
    events = decide(before, after, trigger, responder=None, now=NOW)
    assert [e.type for e in events] == ["RiskLevelChanged", "OutreachTaskCreated"]


def test_rising_to_high_opens_an_urgent_dispatch_and_pages() -> None:
    """High from the score: an urgent risk_high dispatch paging the on-duty worker."""
    s = evolve(initial(CLIENT), enrolled(0))
    s = evolve(s, contact(0.5))
    after, events = step(s, sign(1, "substance_use", 5))
    after, events = step(after, sign(2, "carer_concern", 4))
    assert after.level == "high"
    assert [e.type for e in events] == ["RiskLevelChanged", "DispatchOpened", "PageRequested"]
    opened = events[1].payload
    assert isinstance(opened, DispatchOpened) and opened.reason == "risk_high"
    assert opened.risk_level == "high" and opened.assigned_staff_id == "s-nurse"
    assert "risk rising" in events[2].payload.body  # type: ignore[attr-defined]


def test_a_crisis_call_changes_the_level_without_a_second_dispatch() -> None:
    """The crisis line opens the call's dispatch; the risk agent only records the change."""
    s = evolve(initial(CLIENT), enrolled(0))
    after, events = step(s, crisis_call(1))
    assert after.level == "crisis"
    assert [e.type for e in events] == ["RiskLevelChanged"]


def test_falling_levels_only_record_the_change() -> None:
    """A visit that lowers the level is recorded with its reason and pages nobody."""
    s = evolve(evolve(initial(CLIENT), enrolled(0)), crisis_call(1))
    _after, events = step(s, contact(5))
    assert [e.type for e in events] == ["RiskLevelChanged"]
    assert any("face-to-face visit" in r for r in events[0].payload.reasons)  # type: ignore[attr-defined]


def test_deciding_twice_gives_the_same_ids() -> None:
    """A redelivered trigger decides the same events with the same ids (deduplicated)."""
    before, trigger = elevated_client()
    first = step(before, trigger)[1]
    second = step(before, trigger)[1]
    assert [e.event_id for e in first] == [e.event_id for e in second]


class FakeRota:
    def __init__(self) -> None:
        self.asked = 0

    async def responder(self, team_id: str, at: object) -> Responder | None:
        self.asked += 1
        return NURSE if team_id == TEAM else None

    async def staff_responder(self, staff_id: str) -> Responder | None:
        return None


class FixedClock:
    def now(self):  # type: ignore[no-untyped-def]
        return NOW


async def test_the_engine_asks_the_rota_only_when_someone_must_be_paged() -> None:
    """Folding a quiet event does not touch the rota; a rise does."""
    rota = FakeRota()
    engine = RiskEngine(rota, FixedClock())
    _s, events = await engine.handle(initial(CLIENT), enrolled(0))
    assert events == [] and rota.asked == 0
    before, trigger = elevated_client()
    _, events = await engine.handle(before, trigger)
    assert rota.asked == 1 and events[-1].payload.staff_id == "s-nurse"  # type: ignore[attr-defined]


class FakeClients:
    def __init__(self, has_plan: bool = False) -> None:
        self._has_plan = has_plan

    async def has_plan(self, client_id: str) -> bool:
        return self._has_plan

    async def client(self, client_id: str) -> ClientRef | None:
        return ClientRef(client_id, TEAM) if client_id == CLIENT else None

    async def carer_consents(self, client_id: str, carer_id: str) -> bool | None:
        return {"carer-yes": True, "carer-no": False}.get(carer_id)


async def _intake(body: dict[str, object], team: str | None = TEAM) -> Envelope:
    return await signal_event(
        FakeClients(),
        client_id=CLIENT,
        signal=parse_signal(body),
        team_id=team,
        reported_by="api:nurse",
        now=NOW,
    )


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"source": "staff", "sign": "sleep_loss"}, "severity", 400),
        ({"source": "staff", "sign": "sleep_loss", "severity": 9}, "severity", 400),
        ({"source": "neighbour", "sign": "x", "severity": 2}, "source", 400),
        ({"source": "staff", "sign": "Sleep Loss!", "severity": 2}, "sign", 400),
        ({"source": "staff", "sign": "x", "severity": 2, "mood": 1}, "mood", 400),
        (
            {"source": "staff", "sign": "x", "severity": 2, "occurred_at": "2026-11-02"},
            "occurred_at",
            400,
        ),
        ({"source": "carer", "sign": "x", "severity": 2}, "carer_id", 400),
        ({"source": "carer", "sign": "x", "severity": 2, "carer_id": "carer-no"}, "carer_id", 403),
        ({"source": "carer", "sign": "x", "severity": 2, "carer_id": "stranger"}, "carer_id", 404),
        ({"source": "staff", "sign": "x", "severity": 2, "carer_id": "carer-yes"}, "carer_id", 400),
    ],
)
async def test_bad_signals_are_refused_naming_the_field(
    body: dict[str, object], field: str, status: int
) -> None:
    """Bad input or a carer without consent: refused with the field and a 4xx, no event."""
    with pytest.raises(SignalRefused) as refused:
        await _intake(body)
    assert (refused.value.field, refused.value.status) == (field, status)


async def test_signals_in_the_future_or_of_another_team_are_refused() -> None:
    """A signal dated ahead of now, or about another team's client, is refused."""
    later = (NOW + timedelta(hours=1)).isoformat()
    with pytest.raises(SignalRefused, match="future"):
        await _intake({"source": "staff", "sign": "x", "severity": 2, "occurred_at": later})
    with pytest.raises(SignalRefused) as refused:
        await _intake({"source": "staff", "sign": "x", "severity": 2}, team="act-south")
    assert refused.value.status == 404


async def test_a_consented_carer_signal_is_recorded_under_the_carer() -> None:
    """A carer with consent on file: the event names the carer and dedups on resubmission."""
    body = {"source": "carer", "sign": "sleep_loss", "severity": 3, "carer_id": "carer-yes"}
    first, again = await _intake(body), await _intake(body)
    assert first.actor == "carer:carer-yes" and first.occurred_at == NOW
    assert first.event_id == again.event_id


def test_the_board_text_shows_level_reasons_and_flags() -> None:
    """The huddle text lists each client's level, why, open work and overdue reviews."""
    row = HuddleRow(
        client_id=CLIENT,
        display_name="C 77",
        level="elevated",
        score=5.5,
        reasons=("sleep_loss (staff, severity 2)",),
        level_changed_at=at(40),
        last_contact_at=None,
        last_face_to_face_at=at(10),
        open_dispatches=("K7M2Q",),
        outreach_due=("2026-11-03",),
        plan_review_due=at(-1),
        plan_review_overdue=True,
        missed_contact_since=at(-80),
        changes_24h=("signal sleep_loss",),
    )
    text = render_board(TEAM, [row], at(50))
    assert "ELEVATED" in text and "why: sleep_loss" in text and "K7M2Q" in text
    assert "PLAN REVIEW OVERDUE" in text and "40 h ago" in text
    assert "NO FACE-TO-FACE since 2026-10-30" in text


def test_a_level_change_starts_its_own_timeline() -> None:
    """The change links to its trigger by causation; the call's timeline stays the call's."""
    s = evolve(initial(CLIENT), enrolled(0))
    call = crisis_call(1)
    (changed,) = step(s, call)[1]
    assert changed.causation_id == call.event_id
    assert changed.correlation_id == changed.event_id != call.correlation_id


def test_the_missed_contact_timer_alerts_once_per_gap() -> None:
    """Past the target without a visit: one alert dated when the target ran out; a visit
    starts a new gap; nothing while in hospital or before the target."""
    s = evolve(initial(CLIENT), enrolled(0))
    assert missed_contact(s, now=at(71)) is None
    alert = missed_contact(s, now=at(80))
    assert alert is not None and alert.occurred_at == at(72)
    assert missed_contact(s, now=at(90)) == alert.model_copy(update={"recorded_at": at(90)})
    s = evolve(s, alert)
    assert missed_contact(s, now=at(200)) is None
    visited = evolve(s, contact(100))
    later = missed_contact(visited, now=at(200))
    assert later is not None and later.occurred_at == at(172)
    admitted = evolve(visited, ev(HospitalAdmissionRecorded(client_id=CLIENT), 150, "adm"))
    assert missed_contact(admitted, now=at(200)) is None


def test_every_risk_event_travels_on_the_client_topic_keyed_by_client() -> None:
    """Risk events share the client's partition, so the risk table sees them in order; the
    audit of a read (many clients, keyed by team) has a topic of its own."""
    from dispatch.risk.events import RISK_PAYLOADS, ClientRecordsViewed
    from dispatch.topics import CLIENT_EVENTS, topic_for_event

    client = {cls for cls in RISK_PAYLOADS if cls is not ClientRecordsViewed}
    assert {topic_for_event(cls.event_type) for cls in client} == {CLIENT_EVENTS}
    assert topic_for_event("ClientRecordsViewed") == "act.audit-events"


PLAN = {
    "warning_signs": [{"sign": "sleep_loss", "weight": 2.0, "description": "up all night"}],
    "triggers": ["housing move"],
    "actions": [{"contact": "sister (consent on file)", "offer": "home visit same day"}],
}


async def test_a_first_plan_is_recorded_and_a_later_one_is_a_revision() -> None:
    """The first plan is RelapsePlanRecorded, the next RelapsePlanRevised; the same plan sent
    twice on one day is one event, and agreeing it again another day is a new review."""
    plan = parse_plan(PLAN)

    async def make(has_plan: bool, now: object = NOW) -> Envelope:
        return await plan_event(
            FakeClients(has_plan),
            client_id=CLIENT,
            plan=plan,
            team_id=TEAM,
            agreed_by="api:team_lead",
            now=now,  # type: ignore[arg-type]
        )

    first, revised = await make(False), await make(True)
    assert (first.type, revised.type) == ("RelapsePlanRecorded", "RelapsePlanRevised")
    assert (await make(False)).event_id == first.event_id
    assert (await make(False, NOW + timedelta(days=1))).event_id != first.event_id


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"warning_signs": []}, "warning_signs"),
        ({"warning_signs": [{"sign": "sleep_loss", "weight": 9}]}, "warning_signs.0.weight"),
        ({"actions": [{"contact": "GP"}]}, "actions.0.offer"),
    ],
)
def test_a_bad_plan_is_refused_naming_the_field(change: dict[str, object], field: str) -> None:
    """A plan with no signs, an out-of-range weight or an incomplete action is refused."""
    with pytest.raises(SignalRefused) as refused:
        parse_plan({**PLAN, **change})
    assert refused.value.field == field and refused.value.status == 400
