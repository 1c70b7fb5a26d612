"""Twilio status callbacks of pages mapped to events: what a call's progress means."""

from __future__ import annotations

import uuid

import pytest

from dispatch.paging.events import PageDelivered, PageFailed
from dispatch.web.twilio_hooks import _call_outcome, _message_outcome

N, D = uuid.uuid4(), uuid.uuid4()


def call(status: str, answered_by: str | None = None) -> dict[str, str]:
    form = {"CallSid": "CA1", "CallStatus": status}
    return form | ({"AnsweredBy": answered_by} if answered_by else {})


@pytest.mark.parametrize("status", ["no-answer", "busy", "failed", "canceled"])
def test_unanswered_call_is_a_failed_voice_page(status: str) -> None:
    """No answer, busy, failed or canceled: PageFailed on the voice channel with the status."""
    outcome = _call_outcome(call(status), N, D)
    assert outcome is not None
    failed, key = outcome
    assert isinstance(failed, PageFailed)
    assert (failed.channel, failed.reason, key) == ("voice", status, status)


@pytest.mark.parametrize("status", ["in-progress", "completed"])
def test_machine_answer_is_one_failed_page_whichever_callback_says_it(status: str) -> None:
    """AnsweredBy machine_* on the answered or the completed callback: one PageFailed key."""
    outcome = _call_outcome(call(status, "machine_start"), N, D)
    assert outcome is not None
    failed, key = outcome
    assert isinstance(failed, PageFailed) and failed.reason.startswith("answered-by-machine")
    assert key == "answered-by-machine"


def test_a_person_answering_is_delivered_not_acknowledged() -> None:
    """A human answer is PageDelivered; only pressing 1 acknowledges."""
    outcome = _call_outcome(call("in-progress", "human"), N, D)
    assert outcome is not None and isinstance(outcome[0], PageDelivered)


@pytest.mark.parametrize(
    ("status", "answered_by"), [("initiated", None), ("ringing", None), ("completed", "human")]
)
def test_progress_without_an_outcome_records_nothing(status: str, answered_by: str | None) -> None:
    """Initiated, ringing, and a person's call completing change nothing."""
    assert _call_outcome(call(status, answered_by), N, D) is None


def test_sms_failures_keep_their_error_code() -> None:
    """An undelivered SMS is PageFailed on the sms channel with Twilio's error code."""
    form = {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30003"}
    outcome = _message_outcome(form, N, D)
    assert outcome is not None
    failed, key = outcome
    assert isinstance(failed, PageFailed)
    assert (failed.channel, failed.reason, key) == ("sms", "undelivered 30003", "undelivered")
