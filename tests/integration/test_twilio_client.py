"""TwilioTelephony (the official twilio SDK) against the local Twilio sandbox."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from dispatch.paging.telephony import TelephonyError
from dispatch.settings import Settings
from dispatch.stack.broker import free_port
from integrations.twilio import twiml
from integrations.twilio.client import TwilioTelephony
from integrations.twilio.sandbox import SandboxPhones, TwilioSandbox
from integrations.twilio.signatures import validate_twilio_request
from tests.fixtures.twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, WebhookReceiver

STAFF = "+15550001001"
PAGE = "CRISIS AB12 risk HIGH. Reply ACK AB12"


def _adapter(base_url: str, **options: Any) -> TwilioTelephony:
    """An adapter of the test's own (the fixture's has the default options)."""
    given = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "from_number": FROM_NUMBER}
    return TwilioTelephony(api_base_url=base_url, **{**given, **options})


def _long_ago() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=5)


async def test_send_sms_is_recorded_by_the_sandbox(
    telephony: TwilioTelephony, twilio_sandbox: TwilioSandbox
) -> None:
    """send_sms queues one message with the body, numbers and validity the sandbox records."""
    receipt = await telephony.send_sms(to=STAFF, body=PAGE, status_callback=None, validity_s=600)

    assert re.fullmatch(r"SM[0-9a-f]{32}", receipt.sid)
    assert receipt.status == "queued"
    message = await twilio_sandbox.wait_for_message(to=STAFF, timeout=5)
    assert (message.sid, message.body, message.from_) == (receipt.sid, PAGE, FROM_NUMBER)
    assert message.validity_period == 600


async def test_a_body_with_characters_a_form_must_escape_arrives_as_written(
    telephony: TwilioTelephony, twilio_sandbox: TwilioSandbox
) -> None:
    """The request body is form-encoded by the adapter: &, =, +, %, a line break and
    accented letters reach the provider unchanged."""
    body = "Zoë & Siân: risk=HIGH + 100% call\nReply ACK AB12"
    receipt = await telephony.send_sms(to=STAFF, body=body, status_callback=None, validity_s=60)
    message = await twilio_sandbox.wait_for_message(to=STAFF, timeout=5)
    assert (message.sid, message.body) == (receipt.sid, body)


async def test_sms_status_callbacks_are_signed_like_twilio(
    telephony: TwilioTelephony, webhook_receiver: WebhookReceiver
) -> None:
    """Status callbacks arrive sent, then delivered, each with a valid X-Twilio-Signature; as
    Twilio, none reports the initial "queued" (the API's answer says it)."""
    callback = webhook_receiver.url("/twilio/status?n=note-1&d=disp-1")
    receipt = await telephony.send_sms(
        to=STAFF, body=PAGE, status_callback=callback, validity_s=600
    )

    hits = [await webhook_receiver.next() for _ in range(2)]

    assert receipt.status == "queued"
    assert [hit.form["MessageStatus"] for hit in hits] == ["sent", "delivered"]
    for hit in hits:
        assert hit.url == callback
        assert hit.form["MessageSid"] == receipt.sid
        assert validate_twilio_request(hit.url, hit.form, hit.signature, AUTH_TOKEN)
        assert not validate_twilio_request(hit.url, hit.form, hit.signature, "another-token")


async def test_failing_phone_reports_failed_with_an_error_code(
    telephony: TwilioTelephony, twilio_sandbox: TwilioSandbox, webhook_receiver: WebhookReceiver
) -> None:
    """A phone set to fail reports failed, with Twilio's ErrorCode, in its first callback."""
    twilio_sandbox.set_phone(STAFF, sms="fail")
    await telephony.send_sms(
        to=STAFF, body=PAGE, status_callback=webhook_receiver.url("/s"), validity_s=60
    )

    hit = await webhook_receiver.next()

    assert hit.form["MessageStatus"] == "failed"
    assert hit.form["ErrorCode"] == "30008"


async def test_reach_opens_the_connection_the_next_page_uses(
    telephony: TwilioTelephony, sandbox_phones: SandboxPhones
) -> None:
    """reach() reads the account and sends nothing; the page after it goes over the same
    connection (the sandbox saw one client connection for both requests)."""
    await telephony.reach()
    reached = await sandbox_phones.describe()
    await telephony.send_sms(to=STAFF, body=PAGE, status_callback=None, validity_s=60)
    paged = await sandbox_phones.describe()

    assert (reached["account_reads"], reached["messages"]) == (1, 0)
    assert (paged["messages"], paged["rest_connections"]) == (1, 1)


async def test_reach_with_refused_credentials_is_a_401(
    twilio_sandbox: TwilioSandbox, sandbox_phones: SandboxPhones
) -> None:
    """A wrong auth token: reach() raises the provider's 401, and nothing is counted read."""
    adapter = _adapter(twilio_sandbox.base_url, auth_token="wrong-token")
    try:
        with pytest.raises(TelephonyError) as caught:
            await adapter.reach()
    finally:
        await adapter.close()
    described = await sandbox_phones.describe()

    assert caught.value.status_code == 401
    assert described["account_reads"] == 0


async def test_reach_with_nobody_listening_is_the_providers_fault() -> None:
    """No server at the API URL: reach() raises a TelephonyError marked the provider's fault."""
    adapter = _adapter(f"http://127.0.0.1:{free_port()}", timeout_s=2.0)
    try:
        with pytest.raises(TelephonyError) as caught:
            await adapter.reach()
    finally:
        await adapter.close()

    assert caught.value.provider_fault
    assert caught.value.status_code is None


async def test_bad_credentials_are_not_retry_safe(twilio_sandbox: TwilioSandbox) -> None:
    """A wrong auth token is a 401 TelephonyError: not retry-safe, not the provider's fault."""
    adapter = _adapter(twilio_sandbox.base_url, auth_token="wrong-token")
    try:
        with pytest.raises(TelephonyError) as caught:
            await adapter.send_sms(to=STAFF, body=PAGE, status_callback=None, validity_s=60)
    finally:
        await adapter.close()

    error = caught.value
    assert error.status_code == 401
    assert not (error.retry_safe or error.provider_fault or error.in_doubt)
    assert twilio_sandbox.messages == []


async def test_rate_limit_is_retry_safe(
    telephony: TwilioTelephony, twilio_sandbox: TwilioSandbox
) -> None:
    """HTTP 429 means the message was not taken: retry_safe and provider_fault, not in doubt."""
    twilio_sandbox.inject_fault(429)

    with pytest.raises(TelephonyError) as caught:
        await telephony.send_sms(to=STAFF, body=PAGE, status_callback=None, validity_s=60)

    error = caught.value
    assert (error.status_code, error.retry_safe, error.provider_fault, error.in_doubt) == (
        429,
        True,
        True,
        False,
    )
    assert twilio_sandbox.messages == []
    receipt = await telephony.send_sms(to=STAFF, body=PAGE, status_callback=None, validity_s=60)
    assert receipt.status == "queued"


async def test_server_error_after_recording_is_in_doubt_and_found(
    telephony: TwilioTelephony, twilio_sandbox: TwilioSandbox
) -> None:
    """A 500 after the message was taken is in doubt, and the message is then listed."""
    twilio_sandbox.inject_fault(500, record=True)

    with pytest.raises(TelephonyError) as caught:
        await telephony.send_sms(to=STAFF, body=PAGE, status_callback=None, validity_s=60)

    assert caught.value.in_doubt and caught.value.provider_fault
    assert not caught.value.retry_safe
    [found] = await telephony.sent_sms(to=STAFF, body=PAGE, sent_after=_long_ago())
    assert found.sid == twilio_sandbox.messages[0].sid


async def test_server_error_before_recording_finds_nothing(
    telephony: TwilioTelephony,
    twilio_sandbox: TwilioSandbox,
) -> None:
    """A 503 that took nothing is in doubt too, and no message is then listed."""
    twilio_sandbox.inject_fault(503)

    with pytest.raises(TelephonyError) as caught:
        await telephony.send_sms(to=STAFF, body=PAGE, status_callback=None, validity_s=60)

    assert caught.value.in_doubt and caught.value.status_code == 503
    assert await telephony.sent_sms(to=STAFF, body=PAGE, sent_after=_long_ago()) == []


async def test_timeout_is_in_doubt(twilio_sandbox: TwilioSandbox) -> None:
    """No reply within the client timeout is a provider fault in doubt, with no status code."""
    twilio_sandbox.inject_fault(500, record=True, delay_s=30)
    adapter = _adapter(twilio_sandbox.base_url, timeout_s=0.3)
    try:
        with pytest.raises(TelephonyError) as caught:
            await adapter.send_sms(to=STAFF, body=PAGE, status_callback=None, validity_s=60)
    finally:
        await adapter.close()

    assert caught.value.in_doubt and caught.value.provider_fault
    assert caught.value.status_code is None


async def test_unreachable_api_is_in_doubt() -> None:
    """A connection failure is a provider fault in doubt (the adapter cannot know more)."""
    sandbox = TwilioSandbox(ACCOUNT_SID, AUTH_TOKEN)
    dead_url = await sandbox.start()
    await sandbox.stop()
    adapter = _adapter(dead_url)
    try:
        with pytest.raises(TelephonyError) as caught:
            await adapter.send_sms(to=STAFF, body=PAGE, status_callback=None, validity_s=60)
    finally:
        await adapter.close()

    assert caught.value.in_doubt and caught.value.provider_fault


async def test_invalid_number_is_our_fault(telephony: TwilioTelephony) -> None:
    """A 400 (bad 'To' number) is neither retry-safe nor the provider's fault."""
    with pytest.raises(TelephonyError) as caught:
        await telephony.send_sms(to="555-0100", body=PAGE, status_callback=None, validity_s=60)

    error = caught.value
    assert error.status_code == 400
    assert "21211" in str(error)
    assert not (error.retry_safe or error.provider_fault or error.in_doubt)


async def test_sent_sms_lists_the_exact_body_and_time(
    telephony: TwilioTelephony, twilio_sandbox: TwilioSandbox
) -> None:
    """sent_sms lists only messages with the same body, sent at or after sent_after."""
    other = await telephony.send_sms(to=STAFF, body=PAGE + "!", status_callback=None, validity_s=60)
    mine = await telephony.send_sms(to=STAFF, body=PAGE, status_callback=None, validity_s=60)
    await telephony.send_sms(to="+15550001002", body=PAGE, status_callback=None, validity_s=60)
    eastern = timezone(timedelta(hours=-5))

    found = await telephony.sent_sms(
        to=STAFF, body=PAGE, sent_after=_long_ago().astimezone(eastern)
    )
    later = await telephony.sent_sms(
        to=STAFF, body=PAGE, sent_after=datetime.now(UTC) + timedelta(hours=1)
    )

    assert [f.sid for f in found] == [mine.sid] and mine.sid != other.sid
    assert later == []


async def test_in_doubt_sms_is_found_behind_many_newer_messages(
    twilio_sandbox: TwilioSandbox,
) -> None:
    """A page taken by Twilio before a 500 is found even when more messages than one list
    page holds (and more than the 100 newest) reached the same person after it: a page
    retried later must find its own message, not send a second one."""
    adapter = _adapter(twilio_sandbox.base_url, lookup_page_size=50)
    try:
        twilio_sandbox.inject_fault(500, record=True)
        with pytest.raises(TelephonyError):
            await adapter.send_sms(to=STAFF, body=PAGE, status_callback=None, validity_s=60)
        for n in range(120):
            await adapter.send_sms(
                to=STAFF, body=f"ACT HIGH C{n:03d}", status_callback=None, validity_s=60
            )

        found = await adapter.sent_sms(to=STAFF, body=PAGE, sent_after=_long_ago())
    finally:
        await adapter.close()

    assert [f.sid for f in found] == [twilio_sandbox.messages[0].sid]
    assert len(twilio_sandbox.messages) == 121


async def test_placed_calls_are_listed_across_pages_within_the_window(
    twilio_sandbox: TwilioSandbox,
) -> None:
    """placed_calls reads page after page, newest first, and lists every call to the number
    placed in the window: none is missed behind a full page, none from another number."""
    adapter = _adapter(twilio_sandbox.base_url, lookup_page_size=5)
    twilio_sandbox.set_phone(STAFF, voice="no-answer")
    try:
        placed = [
            await adapter.place_call(
                to=number,
                say="Crisis AB12.",
                gather_url="/g",
                status_callback=None,
                detect_machine=False,
            )
            for number in [STAFF] * 12 + ["+15550001002"]
        ]
        found = await adapter.placed_calls(to=STAFF, placed_after=_long_ago())
        later = await adapter.placed_calls(
            to=STAFF, placed_after=datetime.now(UTC) + timedelta(hours=1)
        )
    finally:
        await adapter.close()

    assert sorted(f.sid for f in found) == sorted(p.sid for p in placed[:12])
    assert later == []


async def test_machine_answer_is_reported_in_call_callbacks(
    telephony: TwilioTelephony, twilio_sandbox: TwilioSandbox, webhook_receiver: WebhookReceiver
) -> None:
    """With detect_machine, a voicemail pickup carries AnsweredBy=machine_start; the call
    runs the voice-page TwiML rendered from what to say and where the key press goes."""
    twilio_sandbox.set_phone(STAFF, voice="machine")
    say, gather_url = "Crisis AB12. Press 1 to accept.", webhook_receiver.url("/gather")
    page = twiml.voice_page(say, gather_url)

    receipt = await telephony.place_call(
        to=STAFF,
        say=say,
        gather_url=gather_url,
        status_callback=webhook_receiver.url("/call"),
        detect_machine=True,
    )

    hits = [await webhook_receiver.next() for _ in range(4)]
    assert re.fullmatch(r"CA[0-9a-f]{32}", receipt.sid)
    assert [hit.form["CallStatus"] for hit in hits] == [
        "initiated",
        "ringing",
        "in-progress",
        "completed",
    ]
    assert hits[-1].form["AnsweredBy"] == "machine_start"
    assert all(validate_twilio_request(h.url, h.form, h.signature, AUTH_TOKEN) for h in hits)
    call = twilio_sandbox.calls[0]
    assert (call.sid, call.twiml, call.machine_detection) == (receipt.sid, page, "Enable")


async def test_unanswered_call_ends_no_answer(
    telephony: TwilioTelephony, twilio_sandbox: TwilioSandbox, webhook_receiver: WebhookReceiver
) -> None:
    """A phone that rings out ends with CallStatus=no-answer and no AnsweredBy."""
    twilio_sandbox.set_phone(STAFF, voice="no-answer")

    await telephony.place_call(
        to=STAFF,
        say="Crisis AB12.",
        gather_url=webhook_receiver.url("/gather"),
        status_callback=webhook_receiver.url("/c"),
        detect_machine=False,
    )

    hits = [await webhook_receiver.next() for _ in range(3)]
    assert hits[-1].form["CallStatus"] == "no-answer"
    assert all("AnsweredBy" not in hit.form for hit in hits)


def test_from_settings_needs_a_base_url() -> None:
    """from_settings uses TWILIO_* settings and refuses an empty API base URL."""
    settings = Settings(twilio_api_base_url="http://127.0.0.1:9/")
    adapter = TwilioTelephony.from_settings(settings)
    assert adapter.api_base_url == "http://127.0.0.1:9"
    with pytest.raises(ValueError, match="api_base_url"):
        TwilioTelephony.from_settings(Settings(twilio_api_base_url=""))
