"""The notifier against real PostgreSQL (page ledger) and the real twilio SDK (sandbox)."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
from structlog.testing import capture_logs

from dispatch.paging.events import PageRequested
from dispatch.paging.ledger import PageLedger
from integrations.twilio.client import TwilioTelephony
from integrations.twilio.sandbox import TwilioSandbox
from tests.integration.paging_support import notifier, page_request, sms_to_nurse


async def test_page_is_sent_once_and_redelivery_is_recognised(
    pg_pool: asyncpg.Pool, telephony: TwilioTelephony, twilio_sandbox: TwilioSandbox
) -> None:
    """A PageRequested delivered twice sends one SMS and reports PageSent both times."""
    request = page_request("CA-once")
    n = notifier(pg_pool, telephony)
    first, again = await n.deliver(request), await n.deliver(request)
    assert [e.type for e in first] == [e.type for e in again] == ["PageSent"]
    assert first[0].event_id == again[0].event_id
    assert sms_to_nurse(twilio_sandbox) == 1
    page = request.payload
    assert isinstance(page, PageRequested)
    assert twilio_sandbox.messages[0].body == page.body
    assert twilio_sandbox.messages[0].validity_period == 600


async def test_worker_died_mid_send_is_looked_up_not_resent(
    pg_pool: asyncpg.Pool, telephony: TwilioTelephony, twilio_sandbox: TwilioSandbox
) -> None:
    """A claim with no outcome (crash after Twilio took the SMS) is found at Twilio, not resent."""
    request = page_request("CA-crash")
    page = request.payload
    assert isinstance(page, PageRequested)
    ledger = PageLedger(pg_pool)
    await ledger.claim(
        notification_id=page.notification_id,
        dispatch_id=page.dispatch_id,
        channel="sms",
        now=datetime.now(UTC),
    )
    # The dead worker's send reached Twilio; its ledger update never happened.
    await telephony.send_sms(
        to=page.to_number, body=page.body, status_callback=None, validity_s=600
    )
    events = await notifier(pg_pool, telephony).deliver(request)
    assert [e.type for e in events] == ["PageSent"]
    assert sms_to_nurse(twilio_sandbox) == 1


async def test_429_is_retried_and_sent(
    pg_pool: asyncpg.Pool, telephony: TwilioTelephony, twilio_sandbox: TwilioSandbox
) -> None:
    """Twilio's 429 (request not taken) is retried with backoff and the page goes out once."""
    twilio_sandbox.inject_fault(429, count=2)
    events = await notifier(pg_pool, telephony).deliver(page_request("CA-429"))
    assert [e.type for e in events] == ["PageSent"]
    assert sms_to_nurse(twilio_sandbox) == 1


async def test_5xx_after_recording_is_looked_up_before_resending(
    pg_pool: asyncpg.Pool, telephony: TwilioTelephony, twilio_sandbox: TwilioSandbox
) -> None:
    """A 500 after Twilio took the message is in doubt: the retry finds it instead of resending."""
    twilio_sandbox.inject_fault(500, count=1, record=True)
    events = await notifier(pg_pool, telephony).deliver(page_request("CA-500"))
    assert [e.type for e in events] == ["PageSent"]
    assert sms_to_nurse(twilio_sandbox) == 1


async def test_exhausted_retries_end_in_page_failed_not_silence(
    pg_pool: asyncpg.Pool, telephony: TwilioTelephony, twilio_sandbox: TwilioSandbox
) -> None:
    """Twilio failing every try ends in PageFailed with the reason, and the ledger says so."""
    twilio_sandbox.inject_fault(503, count=10)
    request = page_request("CA-503")
    events = await notifier(pg_pool, telephony).deliver(request)
    assert [e.type for e in events] == ["PageFailed"]
    assert events[0].payload.provider_fault is True  # type: ignore[attr-defined]
    page = request.payload
    assert isinstance(page, PageRequested)
    state = await pg_pool.fetchval(
        "SELECT state FROM page_ledger WHERE notification_id = $1", page.notification_id
    )
    assert state == "failed"
    assert sms_to_nurse(twilio_sandbox) == 0


async def test_page_logs_carry_the_ids_needed_to_follow_a_dispatch(
    pg_pool: asyncpg.Pool, telephony: TwilioTelephony, twilio_sandbox: TwilioSandbox
) -> None:
    """The page_sent log line names the notification, channel and Twilio SID, never the body."""
    request = page_request("CA-logs")
    with capture_logs() as logs:
        await notifier(pg_pool, telephony).deliver(request)
    sent = [entry for entry in logs if entry["event"] == "page_sent"]
    assert len(sent) == 1
    page = request.payload
    assert isinstance(page, PageRequested)
    assert sent[0]["notification_id"] == str(page.notification_id)
    assert sent[0]["channel"] == "sms"
    assert sent[0]["provider_sid"].startswith("SM")
    assert all(page.body not in str(entry) for entry in logs)


async def test_an_in_doubt_sms_whose_callback_was_lost_is_found_by_its_body(
    pg_pool: asyncpg.Pool, telephony: TwilioTelephony, twilio_sandbox: TwilioSandbox
) -> None:
    """Twilio took the SMS and answered 500, and its status callback never reached us (the
    edge could not record it while PostgreSQL was down): after the wait, the message with
    this page's exact body is taken as sent; the nurse gets one SMS."""
    twilio_sandbox.inject_fault(500, count=1, record=True)
    n = notifier(pg_pool, telephony, status_callback_base="http://127.0.0.1:9", wait_s=0.3)
    with capture_logs() as logs:
        events = await n.deliver(page_request("CA-lost-callback"))
    assert [e.type for e in events] == ["PageSent"]
    assert sms_to_nurse(twilio_sandbox) == 1
    assert "page_in_doubt_matched_by_body" in [e["event"] for e in logs]
