"""Twilio status callbacks of pages mapped to events: what a call's or a text's progress means."""

from __future__ import annotations

import uuid

import pytest

from dispatch.paging.delivery import DeliveryReport, Outcome, page_outcome
from dispatch.paging.events import PageDelivered, PageFailed
from integrations.twilio.forms import delivery_report

N, D = uuid.uuid4(), uuid.uuid4()


def call(status: str, answered_by: str | None = None) -> Outcome | None:
    form = {"CallSid": "CA1", "CallStatus": status}
    form |= {"AnsweredBy": answered_by} if answered_by else {}
    return page_outcome(delivery_report(form), N, D)


def failed(outcome: Outcome | None) -> tuple[PageFailed, str]:
    assert outcome is not None
    event, key = outcome
    assert isinstance(event, PageFailed)
    return event, key


@pytest.mark.parametrize("status", ["no-answer", "busy", "failed", "canceled"])
def test_unanswered_call_is_a_failed_voice_page(status: str) -> None:
    """No answer, busy, failed or canceled: PageFailed on the voice channel with the status."""
    event, key = failed(call(status))
    assert (event.channel, event.reason, key, event.provider_sid) == (
        "voice",
        status,
        status,
        "CA1",
    )


@pytest.mark.parametrize("status", ["in-progress", "completed"])
def test_machine_answer_is_one_failed_page_whichever_callback_says_it(status: str) -> None:
    """AnsweredBy machine_* on the answered or the completed callback: one PageFailed key."""
    event, key = failed(call(status, "machine_start"))
    assert event.reason == "answered-by-machine machine_start"
    assert key == "answered-by-machine"


def test_a_fax_answering_is_a_failed_page() -> None:
    """A fax machine picking up a voice page is a failure, not a delivery."""
    event, key = failed(call("in-progress", "fax"))
    assert (event.reason, key) == ("answered-by-machine fax", "answered-by-machine")


def test_a_person_answering_is_delivered_not_acknowledged() -> None:
    """A human answer is PageDelivered with status "answered"; only pressing 1 acknowledges."""
    outcome = call("in-progress", "human")
    assert outcome is not None
    event, key = outcome
    assert isinstance(event, PageDelivered)
    assert (event.provider_status, event.provider_sid, key) == ("answered", "CA1", "answered")


@pytest.mark.parametrize(
    ("status", "answered_by"), [("initiated", None), ("ringing", None), ("completed", "human")]
)
def test_progress_without_an_outcome_records_nothing(status: str, answered_by: str | None) -> None:
    """Initiated, ringing, and a person's call completing change nothing."""
    assert call(status, answered_by) is None


def test_sms_failures_keep_their_error_code() -> None:
    """An undelivered SMS is PageFailed on the sms channel with Twilio's error code."""
    form = {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30003"}
    event, key = failed(page_outcome(delivery_report(form), N, D))
    assert (event.channel, event.reason, key) == ("sms", "undelivered 30003", "undelivered")


def test_delivered_sms_is_page_delivered_and_queued_is_nothing() -> None:
    """A delivered SMS is PageDelivered; queued or sent is not an outcome yet."""
    delivered = page_outcome(
        delivery_report({"MessageSid": "SM1", "MessageStatus": "delivered"}), N, D
    )
    assert delivered is not None and isinstance(delivered[0], PageDelivered)
    assert (delivered[0].provider_status, delivered[1]) == ("delivered", "delivered")
    for status in ("queued", "sent"):
        form = {"MessageSid": "SM1", "MessageStatus": status}
        assert page_outcome(delivery_report(form), N, D) is None


def test_outcome_events_name_the_page_and_its_dispatch() -> None:
    """Every recorded outcome carries the page's notification id and its dispatch id."""
    report = DeliveryReport("voice", "CA9", "busy", "failed", "")
    event, _ = failed(page_outcome(report, N, D))
    assert (event.notification_id, event.dispatch_id, event.reason) == (N, D, "busy")
