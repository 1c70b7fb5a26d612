"""What the system believed at an instant, from hand-made archived events (bitemporal)."""

from __future__ import annotations

from datetime import timedelta

from dispatch.clients.events import (
    CarerRegistered,
    ConsentGranted,
    ConsentRevoked,
    ContactRecorded,
)
from dispatch.review.asof import believed_at
from dispatch.risk.events import RelapseSignalObserved
from dispatch.rota.events import OverrideScheduled
from tests.unit.review_builders import (
    BACKUP,
    CLIENT,
    POLICY,
    PRIMARY,
    T0,
    TEAM,
    archived,
    event,
    golden_incident,
    raw,
    s,
    team_events,
)

SETUP = [archived(e) for e in team_events()]
VISITED = [  # seen an hour before noon: no overdue contact in the score
    *SETUP,
    archived(
        event(
            ContactRecorded(client_id=CLIENT, staff_id=PRIMARY, kind="face_to_face"),
            CLIENT,
            s(-3600),
        )
    ),
]


def _signal(at_s: float, recorded_s: float | None = None, severity: int = 5):  # type: ignore[no-untyped-def]
    payload = RelapseSignalObserved(
        client_id=CLIENT, source="staff", sign="voices", severity=severity
    )
    recorded = s(recorded_s) if recorded_s is not None else None
    return archived(event(payload, CLIENT, s(at_s), recorded=recorded, tag=str(at_s)))


def _primary(facts, at_s: float):  # type: ignore[no-untyped-def]
    belief = believed_at(facts, s(at_s), TEAM)
    [primary] = [c for c in belief.on_call if c.layer == "primary"]
    return primary.staff_id, primary.source


def test_before_and_after_a_rota_override() -> None:
    """Before the override was recorded the rotation's person was on call; after, the
    person covering (the override starts at noon, recorded at 12:01)."""
    override = archived(
        event(
            OverrideScheduled(
                team_id=TEAM,
                override_id="cover-1",
                layer="primary",
                staff_id="s-rv-cover",
                starts_at=s(0),
                ends_at=s(0) + timedelta(hours=6),
            ),
            TEAM,
            s(60),
        )
    )
    facts = [*SETUP, override]
    assert _primary(facts, 30) == (PRIMARY, "rotation")
    assert _primary(facts, 120) == ("s-rv-cover", "override")


def test_before_and_after_a_risk_change() -> None:
    """Two severe signals raise the client to high; the instant before them it was stable."""
    facts = [*VISITED, _signal(10), _signal(20)]
    before = believed_at(facts, s(15), TEAM).clients[0]
    after = believed_at(facts, s(25), TEAM).clients[0]
    assert (before.client_id, before.level, before.score) == (CLIENT, "elevated", 5.0)
    assert (after.level, after.score) == ("high", 10.0)
    assert any(r.startswith("voices (staff, severity 5)") for r in after.reasons)


def test_a_late_recorded_event_is_not_visible_before_its_recorded_at() -> None:
    """A signal that happened at 12:00:10 but was recorded at 12:10 is listed as late at
    12:05, not applied; at 12:11 it is applied."""
    late = _signal(10, recorded_s=600)
    at_five = believed_at([*VISITED, late], s(300), TEAM)
    assert at_five.clients[0].level == "stable"
    assert [(e.type, e.occurred_at, e.recorded_at) for e in at_five.late_arriving] == [
        ("RelapseSignalObserved", s(10), s(600))
    ]
    at_eleven = believed_at([*VISITED, late], s(660), TEAM)
    assert (at_eleven.clients[0].level, at_eleven.late_arriving) == ("elevated", ())


def test_an_open_dispatch_with_its_frozen_policy_and_step() -> None:
    """At 1 min the dispatch waits on step 0 (the primary); at 2 min 10 s it has escalated
    to the backup; acknowledged it is still open work; resolved it is gone."""
    facts = [*SETUP, *(archived(e) for e in golden_incident())]
    at_one = believed_at(facts, s(60), TEAM).open_dispatches
    assert [
        (d.short_code, d.status, d.step, d.sequence, d.paged, d.deadline_at) for d in at_one
    ] == [("K7M2Q", "open", 0, 0, (PRIMARY,), s(120))]
    assert at_one[0].policy == POLICY
    [later] = believed_at(facts, s(130), TEAM).open_dispatches
    assert (later.step, later.sequence, later.paged) == (1, 1, (PRIMARY, BACKUP))
    [taken] = believed_at(facts, s(200), TEAM).open_dispatches
    assert (taken.status, taken.acknowledged_by) == ("acknowledged", BACKUP)
    assert believed_at(facts, s(1000), TEAM).open_dispatches == ()


def test_consent_in_force_follows_the_consent_fold_and_unknown_types_are_named() -> None:
    """A carer registered with the older flag consents to everything; a grant narrows it, a
    revocation withdraws it at once; an event type this version does not declare is named."""
    carer = archived(
        event(
            CarerRegistered(
                client_id=CLIENT,
                carer_id="k-1",
                display_name="K",
                phone="+15550770098",
                relationship="sister",
                client_consents_to_share=True,
            ),
            CLIENT,
            s(5),
        )
    )
    review = T0.date() + timedelta(days=90)
    granted = ConsentGranted(client_id=CLIENT, carer_id="k-1", shares=("crisis_status",),
                             review_by=review, recorded_by="s-lead")  # fmt: skip
    revoked = ConsentRevoked(client_id=CLIENT, carer_id="k-1", recorded_by="s-lead")
    unknown = raw("CarerPhoneChanged", CLIENT, s(40), {"client_id": CLIENT, "carer_id": "k-1"})
    facts = [*SETUP, carer, archived(event(granted, CLIENT, s(20))), unknown,
             archived(event(revoked, CLIENT, s(50)))]  # fmt: skip
    everything = "k-1: shares crisis_status, care_plan, appointments"
    assert believed_at(facts, s(10), TEAM).clients[0].consent == (everything,)
    narrowed = f"k-1: shares crisis_status (review by {review.isoformat()})"
    assert believed_at(facts, s(30), TEAM).clients[0].consent == (narrowed,)
    after = believed_at(facts, s(60), TEAM)
    assert after.clients[0].consent == ("k-1: no consent",)
    assert after.unknown_types == ("CarerPhoneChanged",)
