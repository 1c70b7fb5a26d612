"""The notifier's voice path and pre-send check, against PostgreSQL and the sandbox (SDK)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import asyncpg
import pytest

from dispatch.crisis.decide import DispatchView, acknowledge
from dispatch.crisis.events import DispatchOpened
from dispatch.crisis.page_text import voice_page_say
from dispatch.events import Envelope
from dispatch.paging.events import PageCancelled, PageRequested
from dispatch.paging.ledger import PageLedger
from dispatch.paging.notifier import Notifier
from integrations.twilio.client import TwilioTelephony
from integrations.twilio.sandbox import TwilioSandbox
from projections.project import project
from projections.queries import ReadModels
from tests.integration.paging_support import (
    NURSE,
    T0,
    StatusCallbacks,
    calls_to_nurse,
    opened_and_page,
)
from tests.integration.paging_support import notifier as paging_notifier

BASE = "https://dispatch.example.org"


def notifier(
    pool: asyncpg.Pool, telephony: TwilioTelephony, base: str = BASE, wait_s: float = 5.0
) -> Notifier:
    return paging_notifier(
        pool, telephony, status_callback_base=base, dispatches=ReadModels(pool), wait_s=wait_s
    )


@pytest.fixture
async def callbacks(pg_pool: asyncpg.Pool) -> AsyncIterator[StatusCallbacks]:
    """A status-callback endpoint the sandbox's carrier can reach."""
    receiver = StatusCallbacks(pg_pool)
    await receiver.start()
    yield receiver
    await receiver.stop()


async def store(pool: asyncpg.Pool, *events: Envelope) -> None:
    async with pool.acquire() as conn, conn.transaction():
        for event in events:
            await project(conn, event)


async def test_voice_page_calls_with_machine_detection_and_a_one_digit_gather(
    pg_pool: asyncpg.Pool, telephony: TwilioTelephony, twilio_sandbox: TwilioSandbox
) -> None:
    """A voice page places one call: AMD on, TwiML reading code and risk, Gather to our URL."""
    opened, request = opened_and_page("CA-voice")
    await store(pg_pool, opened)
    events = await notifier(pg_pool, telephony).deliver(request)
    assert [e.type for e in events] == ["PageSent"]
    assert events[0].payload.provider_sid.startswith("CA")  # type: ignore[attr-defined]
    [call] = twilio_sandbox.calls
    assert call.machine_detection == "Enable"
    d = opened.payload
    assert isinstance(d, DispatchOpened)
    gather = ElementTree.fromstring(call.twiml or "").find("Gather")  # noqa: S314 - our TwiML
    assert gather is not None and gather.get("numDigits") == "1"
    say = gather.find("Say")
    assert say is not None
    assert say.text == voice_page_say(code=d.short_code, risk_level=d.risk_level)
    page = request.payload
    assert isinstance(page, PageRequested)
    ids = {"n": [str(page.notification_id)], "d": [str(d.dispatch_id)]}
    action = urlsplit(gather.get("action", ""))
    assert f"{action.scheme}://{action.netloc}{action.path}" == f"{BASE}/twilio/voice/page"
    assert parse_qs(action.query) == ids
    incident = {"c": [str(request.correlation_id)]}  # a report is spooled reading nothing
    assert parse_qs(urlsplit(call.status_callback or "").query) == {**ids, **incident}


async def test_voice_page_redelivered_is_not_placed_twice(
    pg_pool: asyncpg.Pool, telephony: TwilioTelephony, twilio_sandbox: TwilioSandbox
) -> None:
    """The same voice PageRequested twice places one call and reports PageSent both times."""
    opened, request = opened_and_page("CA-voice-twice")
    await store(pg_pool, opened)
    n = notifier(pg_pool, telephony)
    first, again = await n.deliver(request), await n.deliver(request)
    assert [e.event_id for e in first] == [e.event_id for e in again]
    assert calls_to_nurse(twilio_sandbox) == 1


async def test_voice_page_in_doubt_after_a_crash_is_found_not_placed_again(
    pg_pool: asyncpg.Pool,
    telephony: TwilioTelephony,
    twilio_sandbox: TwilioSandbox,
    callbacks: StatusCallbacks,
) -> None:
    """A claim with no outcome whose call reached Twilio is found by its own status
    callback, not dialled again."""
    opened, request = opened_and_page("CA-voice-crash")
    await store(pg_pool, opened)
    page = request.payload
    assert isinstance(page, PageRequested)
    await PageLedger(pg_pool).claim(
        notification_id=page.notification_id,
        dispatch_id=page.dispatch_id,
        channel="voice",
        now=datetime.now(UTC),
    )
    n = notifier(pg_pool, telephony, callbacks.base_url)
    earlier = await telephony.place_call(  # what the crashed worker had placed
        to=NURSE.phone,
        say="An earlier attempt.",
        gather_url=f"{BASE}/twilio/voice/page",
        status_callback=n._status_url(page, request.correlation_id),
        detect_machine=True,
    )
    events = await n.deliver(request)
    assert [e.type for e in events] == ["PageSent"]
    assert events[0].payload.provider_sid == earlier.sid  # type: ignore[attr-defined]
    assert calls_to_nurse(twilio_sandbox) == 1


async def test_voice_5xx_after_the_call_was_taken_is_looked_up_before_redialling(
    pg_pool: asyncpg.Pool,
    telephony: TwilioTelephony,
    twilio_sandbox: TwilioSandbox,
    callbacks: StatusCallbacks,
) -> None:
    """A 500 after Twilio took the call is in doubt: the retry finds the call instead."""
    opened, request = opened_and_page("CA-voice-500")
    await store(pg_pool, opened)
    twilio_sandbox.inject_fault(500, count=1, record=True)
    events = await notifier(pg_pool, telephony, callbacks.base_url).deliver(request)
    assert [e.type for e in events] == ["PageSent"]
    assert events[0].payload.provider_sid == twilio_sandbox.calls[0].sid  # type: ignore[attr-defined]
    assert calls_to_nurse(twilio_sandbox) == 1


@pytest.mark.parametrize("with_callbacks", [True, False])
async def test_another_dispatchs_call_is_never_taken_for_this_page(
    pg_pool: asyncpg.Pool,
    telephony: TwilioTelephony,
    twilio_sandbox: TwilioSandbox,
    callbacks: StatusCallbacks,
    with_callbacks: bool,
) -> None:
    """The nurse was called for dispatch A; B's call then hits a 500 that took nothing:
    B's call is placed and recorded with its own SID, never with A's."""
    base = callbacks.base_url if with_callbacks else None
    opened_a, page_a = opened_and_page("CA-dispatch-a")
    opened_b, page_b = opened_and_page("CA-dispatch-b")
    await store(pg_pool, opened_a, opened_b)
    first = await notifier(pg_pool, telephony, base, wait_s=1.0).deliver(page_a)
    a_sid = first[0].payload.provider_sid  # type: ignore[attr-defined]
    twilio_sandbox.inject_fault(500, count=1, record=False)
    events = await notifier(pg_pool, telephony, base, wait_s=1.0).deliver(page_b)
    assert [e.type for e in events] == ["PageSent"]
    b_sid = events[0].payload.provider_sid  # type: ignore[attr-defined]
    assert b_sid != a_sid and calls_to_nurse(twilio_sandbox) == 2
    assert b_sid == twilio_sandbox.calls[1].sid


async def test_page_of_an_acknowledged_dispatch_is_cancelled_not_sent(
    pg_pool: asyncpg.Pool, telephony: TwilioTelephony, twilio_sandbox: TwilioSandbox
) -> None:
    """Acknowledged before the page went out: PageCancelled, no SMS, no ledger claim."""
    opened, request = opened_and_page("CA-acked", channel="sms")
    d = opened.payload
    assert isinstance(d, DispatchOpened)
    view = DispatchView(d.dispatch_id, d.short_code, "open", None)
    ack = acknowledge(
        view,
        staff_id="s-other",
        via="sms",
        reply_id="SM-ack",
        occurred_at=T0,
        now=T0,
        correlation_id=str(opened.correlation_id),
    )
    await store(pg_pool, opened, ack)
    events = await notifier(pg_pool, telephony).deliver(request)
    assert [e.type for e in events] == ["PageCancelled"]
    cancelled = events[0].payload
    assert isinstance(cancelled, PageCancelled) and cancelled.reason == "acknowledged"
    assert twilio_sandbox.messages == []
    page = request.payload
    assert isinstance(page, PageRequested)
    assert await PageLedger(pg_pool).get(page.notification_id) is None


async def test_page_without_a_dispatch_row_is_sent(
    pg_pool: asyncpg.Pool, telephony: TwilioTelephony, twilio_sandbox: TwilioSandbox
) -> None:
    """No dispatches row (an outreach task id, or not projected yet): the page is sent."""
    _, request = opened_and_page("CA-no-row", channel="sms")
    events = await notifier(pg_pool, telephony).deliver(request)
    assert [e.type for e in events] == ["PageSent"]
    assert len(twilio_sandbox.messages) == 1


async def test_a_page_already_sent_is_not_cancelled_by_a_later_ack(
    pg_pool: asyncpg.Pool, telephony: TwilioTelephony, twilio_sandbox: TwilioSandbox
) -> None:
    """Redelivered after it was sent and the dispatch taken: still PageSent, as the ledger says."""
    opened, request = opened_and_page("CA-sent-then-acked", channel="sms")
    await store(pg_pool, opened)
    n = notifier(pg_pool, telephony)
    first = await n.deliver(request)
    d = opened.payload
    assert isinstance(d, DispatchOpened)
    view = DispatchView(d.dispatch_id, d.short_code, "open", None)
    ack = acknowledge(
        view,
        staff_id=NURSE.staff_id,
        via="sms",
        reply_id="SM-ack2",
        occurred_at=T0,
        now=T0,
        correlation_id=str(opened.correlation_id),
    )
    await store(pg_pool, ack)
    again = await n.deliver(request)
    assert [e.type for e in again] == ["PageSent"] and again[0].event_id == first[0].event_id
    assert len(twilio_sandbox.messages) == 1
