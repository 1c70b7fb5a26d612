"""Twilio webhook forms read into typed values, or refused naming the field."""

from __future__ import annotations

import pytest

from integrations.twilio.forms import (
    DialResult,
    FormError,
    GatherResult,
    InboundCall,
    InboundSms,
    RecordingCallback,
    delivery_report,
)

CALL = {"CallSid": "CA1", "From": "+15550200001", "To": "+15005550001", "CallStatus": "ringing"}


def test_inbound_call_reads_the_caller_and_the_line_and_ignores_other_fields() -> None:
    """A ring names the call, the caller and the crisis line; Twilio's extra fields are ignored."""
    call = InboundCall.parse(CALL | {"Direction": "inbound", "ApiVersion": "2010-04-01"})
    assert (call.call_sid, call.caller_number, call.line_number) == (
        "CA1",
        "+15550200001",
        "+15005550001",
    )


@pytest.mark.parametrize(
    ("form", "field", "problem"),
    [
        ({k: v for k, v in CALL.items() if k != "CallSid"}, "CallSid", "missing"),
        (CALL | {"CallSid": ""}, "CallSid", "empty"),
        ({k: v for k, v in CALL.items() if k != "To"}, "To", "missing"),
    ],
)
def test_inbound_call_without_a_field_is_refused_naming_it(
    form: dict[str, str], field: str, problem: str
) -> None:
    """A ring without its call id or line number is refused, naming that field."""
    with pytest.raises(FormError) as caught:
        InboundCall.parse(form)
    assert (caught.value.field, caught.value.problem) == (field, problem)
    assert str(caught.value) == f"{field}: {problem}"


def test_dial_result_is_connected_only_when_the_dial_completed() -> None:
    """A completed dial ended a conversation; no answer, busy, or no status at all did not."""
    assert DialResult.parse({"DialCallStatus": "completed"}).connected
    assert not DialResult.parse({"DialCallStatus": "no-answer"}).connected
    assert not DialResult.parse({"Digits": "0"}).connected


def test_recording_reads_its_duration_as_a_number() -> None:
    """A caller's message carries its recording and how long it is in seconds."""
    form = {"CallSid": "CA1", "RecordingSid": "RE1", "RecordingDuration": "14", "From": "+1555"}
    rec = RecordingCallback.parse(form | {"RecordingUrl": "https://example.invalid/RE1"})
    assert (rec.recording_sid, rec.duration_s, rec.recording_url, rec.caller_number) == (
        "RE1",
        14,
        "https://example.invalid/RE1",
        "+1555",
    )
    with pytest.raises(FormError, match=r"^RecordingDuration: not an integer$"):
        RecordingCallback.parse(form | {"RecordingDuration": "long"})
    with pytest.raises(FormError, match=r"^RecordingSid: missing$"):
        RecordingCallback.parse({"CallSid": "CA1"})


def test_inbound_sms_needs_its_message_id() -> None:
    """A text names its message, sender and number texted; without a message id it is refused."""
    sms = InboundSms.parse({"MessageSid": "SM1", "From": "+1555", "To": "+1500", "Body": "ACK K7"})
    assert (sms.message_sid, sms.sender_number, sms.to_number, sms.body) == (
        "SM1",
        "+1555",
        "+1500",
        "ACK K7",
    )
    assert InboundSms.parse({"MessageSid": "SM2", "From": "+1", "To": "+2"}).body == ""
    with pytest.raises(FormError, match=r"^MessageSid: missing$"):
        InboundSms.parse({"From": "+1555", "To": "+1500", "Body": "ACK K7"})


def test_gather_result_reads_the_key_pressed() -> None:
    """A key press names the call and the digits; pressing nothing is no digits."""
    assert GatherResult.parse({"CallSid": "CA1", "Digits": "1"}).digits == "1"
    assert GatherResult.parse({"CallSid": "CA1"}).digits == ""


def test_status_callback_without_its_status_is_refused() -> None:
    """An SMS status callback without MessageStatus is refused naming it."""
    with pytest.raises(FormError, match=r"^MessageStatus: missing$"):
        delivery_report({"MessageSid": "SM1"})
