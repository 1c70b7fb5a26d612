"""A crisis call end to end: ring -> TwiML -> SMS page -> ACK -> DONE, on the real stack."""

from __future__ import annotations

import json
import uuid

from aiokafka import AIOKafkaConsumer

from dispatch.demo.seed import CLIENT_PHONES
from dispatch.stack.runtime import Stack
from dispatch.topics import DISPATCH_EVENTS, PAGE_EVENTS
from integrations.twilio.sandbox import SandboxPhones
from tests.e2e.helpers import (
    archive_types,
    code_of,
    last_index,
    next_page,
    on_duty_primary,
    reply_by_sms,
    sms_count,
    spool_total,
    until,
)


async def _topic_types(stack: Stack, topic: str, key: str) -> list[str]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=stack.settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=20,
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=1000)
        return [
            json.loads(r.value)["type"]
            for records in batches.values()
            for r in records
            if r.key.decode() == key
        ]
    finally:
        await consumer.stop()


async def test_crisis_call_pages_on_duty_worker_who_acks_and_resolves(
    stack: Stack, phones: SandboxPhones
) -> None:
    """A client's call dials the on-duty worker, pages them by SMS, and ACK/DONE close it."""
    s = stack.settings
    primary = await on_duty_primary(stack)
    after = last_index(stack)

    status, twiml = await phones.place_call(CLIENT_PHONES["c-01"], s.crisis_line_number)
    assert status == 200
    assert "<Dial" in twiml and f"<Number>{primary.phone}</Number>" in twiml
    assert "crisis line" in twiml

    sms = await next_page(phones, primary.phone, after=after, timeout=20)
    code = code_of(sms["body"])
    assert sms["body"].startswith(f"ACT CRISIS {code}:")
    assert f"ACK {code}" in sms["body"]
    for secret in (CLIENT_PHONES["c-01"], "c-01", "Client 01"):
        assert secret not in sms["body"]

    reply = await reply_by_sms(stack, phones, primary.phone, f"ack {code}")
    assert reply == f"{code} is yours. Caller details are in the dispatch API."
    await until(lambda: _status_is(stack, code, "acknowledged"), what="acknowledged")
    reply = await reply_by_sms(stack, phones, primary.phone, f"DONE {code} visited, safe")
    assert reply == f"{code} closed: visited, safe"
    row = await until(lambda: _status_is(stack, code, "resolved"), what="resolved")
    assert row.acknowledged_by == primary.staff_id and row.outcome == "visited, safe"
    assert row.client_id == "c-01" and row.risk_level == "crisis"

    # The resolution opens the client's post-crisis follow-up, on the dispatch's timeline.
    types = await until(lambda: _with_follow_up(stack, row.correlation_id), what="follow-up")
    # Delivery reports arrive when the carrier sends them: anywhere after the page request.
    # The frozen escalation plan ties with the page (same cause, same instant).
    reports = {"PageSent", "PageDelivered", "EscalationPlanFrozen"}
    assert [t for t in types if t not in reports] == [
        "CrisisCallReceived",
        "DispatchOpened",
        "PageRequested",
        "StaffReplyReceived",
        "DispatchAcknowledged",
        "StaffReplyDecided",
        "StaffReplyReceived",
        "DispatchResolved",
        "StaffReplyDecided",
        "FollowUpOpened",
    ]
    assert types.index("PageSent") > types.index("PageRequested")
    assert types.index("EscalationPlanFrozen") > types.index("DispatchOpened")
    pages = await stack.read_models.pages(row.dispatch_id)
    assert len(pages) == 1 and pages[0].staff_id == primary.staff_id
    assert await until(
        lambda: _page_delivered(stack, row.dispatch_id), what="delivery report projected"
    )
    assert "PageDelivered" in await archive_types(stack, row.correlation_id)  # its incident
    key = str(row.dispatch_id)
    assert await _topic_types(stack, DISPATCH_EVENTS, key) == [
        "DispatchOpened",
        "EscalationPlanFrozen",
        "StaffReplyReceived",
        "DispatchAcknowledged",
        "StaffReplyDecided",
        "StaffReplyReceived",
        "DispatchResolved",
        "StaffReplyDecided",
    ]
    page_types = await _topic_types(stack, PAGE_EVENTS, key)
    assert page_types[0] == "PageRequested"
    assert sorted(page_types[1:]) == ["PageDelivered", "PageSent"]


async def _with_follow_up(stack: Stack, correlation_id: uuid.UUID) -> list[str] | None:
    types = await archive_types(stack, correlation_id)
    return types if "FollowUpOpened" in types else None


async def _status_is(stack: Stack, code: str, status: str):  # type: ignore[no-untyped-def]
    row = await stack.read_models.dispatch_by_code(code)
    return row if row is not None and row.status == status else None


async def _page_delivered(stack: Stack, dispatch_id: uuid.UUID) -> bool:
    return any(p.status == "delivered" for p in await stack.read_models.pages(dispatch_id))


async def test_unknown_caller_is_still_dispatched(stack: Stack, phones: SandboxPhones) -> None:
    """A number not on file reaches the on-duty worker and opens a dispatch all the same."""
    primary = await on_duty_primary(stack)
    after = last_index(stack)
    status, twiml = await phones.place_call("+15557770001", stack.settings.crisis_line_number)
    assert status == 200 and primary.phone in twiml
    sms = await next_page(phones, primary.phone, after=after, timeout=20)
    assert "unknown caller" in sms["body"]
    row = await until(
        lambda: stack.read_models.dispatch_by_code(code_of(sms["body"])), what="dispatch row"
    )
    assert row.client_id is None and row.caller_kind == "unknown"


async def test_twilio_retry_of_same_call_pages_once(stack: Stack, phones: SandboxPhones) -> None:
    """The same CallSid delivered twice (Twilio retries) opens one dispatch and pages once."""
    primary = await on_duty_primary(stack)
    call_sid = "CA" + uuid.uuid4().hex
    after = last_index(stack)
    for _ in range(2):
        status, twiml = await phones.place_call(
            CLIENT_PHONES["c-01"], stack.settings.crisis_line_number, call_sid=call_sid
        )
        assert status == 200 and primary.phone in twiml
    sms = await next_page(phones, primary.phone, after=after, timeout=20)
    code = code_of(sms["body"])
    # A sentinel call after the retry: with one partition, its page arriving means the
    # retried call (had it been published) would have been processed before it.
    sentinel_after = last_index(stack)
    await phones.place_call(CLIENT_PHONES["c-04"], stack.settings.crisis_line_number)
    await next_page(phones, primary.phone, after=sentinel_after, timeout=20)
    assert await sms_count(stack, primary.phone, f" {code}:") == 1
    row = await until(lambda: stack.read_models.dispatch_by_code(code), what="dispatch row")
    assert (await archive_types(stack, row.correlation_id)).count("CrisisCallReceived") == 1


async def test_reply_from_unknown_number_changes_nothing(
    stack: Stack, phones: SandboxPhones
) -> None:
    """An ACK from a number not on the rota is refused and the dispatch stays open."""
    primary = await on_duty_primary(stack)
    after = last_index(stack)
    await phones.place_call(CLIENT_PHONES["c-03"], stack.settings.crisis_line_number)
    code = code_of((await next_page(phones, primary.phone, after=after, timeout=20))["body"])
    row = await until(lambda: _status_is(stack, code, "open"), what="dispatch projected")
    await until(lambda: _page_delivered(stack, row.dispatch_id), what="delivery report")
    spooled = await spool_total(stack, key=str(row.dispatch_id))
    status, reply = await phones.send_sms(
        "+15558880000", stack.settings.twilio_from_number, f"ACK {code}"
    )
    assert status == 200 and "not on the rota" in reply
    assert await spool_total(stack, key=str(row.dispatch_id)) == spooled
    row = await stack.read_models.dispatch_by_code(code)
    assert row is not None and row.status == "open"
    assert "DispatchAcknowledged" not in await archive_types(stack, row.correlation_id)


async def test_a_ready_worker_has_read_the_twilio_account(
    stack: Stack, phones: SandboxPhones
) -> None:
    """Before it said ready, the worker read the Twilio account, which sends nothing: the
    credentials were accepted, and the first page goes over a connection already open."""
    described = await phones.describe()

    assert described["account_reads"] >= 1
