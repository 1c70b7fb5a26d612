"""One incident reviewed from hand-made archived events: order, pages, figures."""

from __future__ import annotations

from dispatch.review.incident import review_incident
from tests.unit.review_builders import BACKUP, PRIMARY, archived, golden_incident, s


def _golden(**call_extra: object):  # type: ignore[no-untyped-def]
    events = golden_incident()
    facts = [archived(events[0], **call_extra), *(archived(e) for e in events[1:-1])]
    return review_incident(list(reversed(facts)), [archived(events[-1])])


def test_timeline_is_in_event_time_order_with_causes_first() -> None:
    """The manager reads the events in the order they happened, each cause before its effect
    (effects of one cause that tie on both times by their type's name)."""
    incident = _golden()
    assert incident is not None
    assert [e.type for e in incident.timeline] == [
        "CrisisCallReceived", "DispatchOpened", "EscalationPlanFrozen", "PageRequested",
        "PageSent", "PageDelivered", "EscalationDeadlineReached", "DispatchEscalated",
        "PageRequested", "PageFailed", "StaffReplyReceived", "DispatchAcknowledged",
        "StaffReplyDecided", "DispatchResolved",
    ]  # fmt: skip
    assert incident.timeline[9].summary == "page to s-rv-backup failed carrier: unreachable"


def test_figures_come_from_the_events_own_times() -> None:
    """Ring to first page sent, delivered, acknowledged, visited and resolved, in seconds;
    MTTA runs from when the system raised the dispatch."""
    incident = _golden()
    assert incident is not None
    seconds = {f.name: f.seconds for f in incident.figures}
    assert seconds == {
        "to_twiml": None,
        "to_first_page_sent": 1.0,
        "to_first_page_delivered": 2.0,
        "to_acknowledgement": 150.0,
        "mtta": 149.5,
        "to_first_face_to_face": 3600.0,
        "to_resolution": 900.0,
    }
    assert incident.figure("to_twiml").note == "not recorded"
    assert incident.figure("to_acknowledgement").label == "ring to acknowledgement (time to engage)"


def test_ring_to_twiml_is_shown_when_the_call_recorded_it() -> None:
    """A call event that carries when its TwiML was sent gives the ring-to-TwiML figure."""
    incident = _golden(twiml_at=s(0.25).isoformat())
    assert incident is not None
    assert incident.figure("to_twiml").seconds == 0.25


def test_who_was_paged_how_and_with_what_result() -> None:
    """Each page names the person, channel, step and the provider's outcome; escalations,
    replies and failures are listed; steps used counts the escalation."""
    incident = _golden()
    assert incident is not None
    assert [(p.staff_id, p.channel, p.step, p.outcome) for p in incident.pages] == [
        (PRIMARY, "sms", 0, "delivered"),
        (BACKUP, "sms", 1, "failed: carrier: unreachable"),
    ]
    assert incident.pages_per_channel == {"sms": 2}
    assert incident.steps_used == 2
    assert [(e.reason, e.staff_ids) for e in incident.escalations] == [("timeout", (BACKUP,))]
    assert [(r.staff_id, r.verb, r.decision) for r in incident.replies] == [
        (BACKUP, "ack", "accepted")
    ]
    assert incident.failures == ("12:02:02Z page to s-rv-backup failed carrier: unreachable",)
    assert (incident.status, incident.acknowledged_by, incident.outcome) == (
        "resolved",
        BACKUP,
        "visited, safe",
    )


def test_summary_line_of_the_incident_list() -> None:
    """The list shows the code, whether it escalated and the time to engage."""
    incident = _golden()
    assert incident is not None
    line = incident.summary()
    assert (line.short_code, line.escalated, line.to_acknowledgement_s, line.pages) == (
        "K7M2Q",
        True,
        150.0,
        2,
    )


def test_without_its_opening_there_is_no_incident() -> None:
    """Events whose DispatchOpened is not archived (yet) make no incident."""
    events = golden_incident()
    assert review_incident([archived(e) for e in events if e.type != "DispatchOpened"]) is None
