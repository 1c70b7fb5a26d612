"""Voice paging on the real stack: SMS failover, key presses, machines, redials, cancels."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from xml.etree import ElementTree

import aiohttp
import pytest

from dispatch.events import derived_id, new_event
from dispatch.paging.events import PageRequested
from dispatch.stack.runtime import Stack
from integrations.twilio.sandbox import SandboxPhones
from projections.models import ArchivedEvent, Dispatch
from tests.e2e import south_team as south
from tests.e2e.helpers import code_of, last_index, next_page, spool_total, until

PRIMARY = south.PHONES[south.PRIMARY]
BACKUP = south.PHONES[south.BACKUP]


@pytest.fixture
async def primary_phone(phones: SandboxPhones) -> AsyncIterator[SandboxPhones]:
    """The south primary's handset, put back to normal (SMS delivered, a person answers)."""
    try:
        yield phones
    finally:
        await phones.set_phone(PRIMARY, sms="deliver", voice="human")


async def _crisis(stack: Stack, phones: SandboxPhones, client: str) -> Dispatch:
    """A south client calls the crisis line; returns the dispatch once it is projected."""
    before = {m.index for m in _sandbox(stack).messages}
    status, _ = await phones.place_call(south.CLIENTS[client], south.LINE)
    assert status == 200

    async def opened() -> Dispatch | None:
        for m in _sandbox(stack).messages:
            if m.index not in before and m.to == PRIMARY and m.body.startswith("ACT CRISIS"):
                return await stack.read_models.dispatch_by_code(code_of(m.body))
        return None

    row: Dispatch = await until(opened, what="the dispatch paged to the primary")
    return row


def _sandbox(stack: Stack) -> Any:
    return stack.sandbox


async def _call_to(stack: Stack, phone: str, after: int, code: str) -> dict[str, Any]:
    """The first call to `phone` (index > after) whose TwiML names the dispatch code."""
    spelled = ", ".join(code)

    async def found() -> dict[str, Any] | None:
        for c in _sandbox(stack).calls:
            if c.index > after and c.to == phone and spelled in (c.twiml or ""):
                return dict(c.to_dict())
        return None

    call: dict[str, Any] = await until(found, what=f"a voice page to {phone} about {code}")
    return call


def _calls_before(stack: Stack) -> int:
    return max((c.index for c in _sandbox(stack).calls), default=0)


async def _press(stack: Stack, phones: SandboxPhones, call: dict[str, Any], digits: str) -> str:
    """The callee presses `digits` on a paging call; returns the TwiML they hear."""
    gather = ElementTree.fromstring(call["twiml"]).find("Gather")  # noqa: S314 - our TwiML
    assert gather is not None
    status, twiml = await phones.press_digits(
        gather.get("action", ""),
        call_sid=call["sid"],
        from_=stack.settings.twilio_from_number,
        to=call["to"],
        digits=digits,
    )
    assert status == 200
    return twiml


async def _events(stack: Stack, row: Dispatch) -> list[ArchivedEvent]:
    await stack.projector.wait_until_caught_up(timeout=20)
    return await stack.read_models.archive(key=str(row.dispatch_id))


async def _has(
    stack: Stack, row: Dispatch, event_type: str, **payload: Any
) -> ArchivedEvent | None:
    for e in await _events(stack, row):
        if e.type == event_type and all(e.payload.get(k) == v for k, v in payload.items()):
            return e
    return None


async def _status(stack: Stack, row: Dispatch, status: str) -> Dispatch | None:
    now = await stack.read_models.dispatch(row.dispatch_id)
    return now if now is not None and now.status == status else None


async def _close(stack: Stack, phones: SandboxPhones, row: Dispatch) -> None:
    """The backup closes the dispatch so it stops paging the team."""
    await phones.send_sms(BACKUP, stack.settings.twilio_from_number, f"DONE {row.short_code} ok")
    await until(lambda: _status(stack, row, "resolved"), what="resolved")


async def test_failed_sms_is_followed_by_a_voice_page_and_1_takes_it(
    stack: Stack, primary_phone: SandboxPhones
) -> None:
    """SMS to the primary fails: the primary is called, presses 1, and has the dispatch."""
    phones = primary_phone
    await phones.set_phone(PRIMARY, sms="fail", voice="human")
    calls = _calls_before(stack)
    row = await _crisis(stack, phones, "c-s4")
    call = await _call_to(stack, PRIMARY, calls, row.short_code)
    assert call["machine_detection"] == "Enable"
    heard = await _press(stack, phones, call, "1")
    assert "is yours" in heard
    taken = await until(lambda: _status(stack, row, "acknowledged"), what="acknowledged")
    assert taken.acknowledged_by == south.PRIMARY
    assert await _has(stack, row, "DispatchAcknowledged", via="voice")
    failed = await _has(stack, row, "PageFailed", channel="sms")
    assert failed is not None
    again = await _press(stack, phones, call, "1")  # Twilio retrying the same key press
    assert again == heard
    await _close(stack, phones, row)
    replies = [e for e in await _events(stack, row) if e.type == "StaffReplyReceived"]
    assert [e.payload["channel"] for e in replies] == ["voice", "sms"]


async def test_voice_page_answered_by_a_machine_is_not_an_ack_and_escalates(
    stack: Stack, primary_phone: SandboxPhones
) -> None:
    """Voicemail picks up the primary's call: PageFailed, no redial, the backup is paged."""
    phones = primary_phone
    await phones.set_phone(PRIMARY, sms="fail", voice="machine")
    after = last_index(stack)
    row = await _crisis(stack, phones, "c-s5")
    failed = await until(
        lambda: _has(stack, row, "PageFailed", channel="voice"), what="voice PageFailed"
    )
    assert failed.payload["reason"].startswith("answered-by-machine")
    page = await next_page(phones, BACKUP, after=after, timeout=20)
    assert code_of(page["body"]) == row.short_code
    current = await stack.read_models.dispatch(row.dispatch_id)
    assert current is not None and current.acknowledged_by is None
    types = [e.type for e in await _events(stack, row)]
    assert "DispatchEscalated" in types and "PageRedialScheduled" not in types
    await _close(stack, phones, row)


async def test_pressing_2_passes_the_dispatch_on(
    stack: Stack, primary_phone: SandboxPhones
) -> None:
    """The called primary presses 2: EscalationRequested by voice, and the backup is paged."""
    phones = primary_phone
    await phones.set_phone(PRIMARY, sms="fail", voice="human")
    after, calls = last_index(stack), _calls_before(stack)
    row = await _crisis(stack, phones, "c-s1")
    call = await _call_to(stack, PRIMARY, calls, row.short_code)
    heard = await _press(stack, phones, call, "2")
    assert "passed on" in heard
    requested = await until(
        lambda: _has(stack, row, "EscalationRequested", via="voice"), what="EscalationRequested"
    )
    assert requested.payload["staff_id"] == south.PRIMARY
    page = await next_page(phones, BACKUP, after=after, timeout=20)
    assert code_of(page["body"]) == row.short_code
    await _close(stack, phones, row)


async def test_other_keys_reprompt_once_then_change_nothing(
    stack: Stack, primary_phone: SandboxPhones
) -> None:
    """A key other than 1 or 2 re-prompts once; a second wrong key ends the call, still open."""
    phones = primary_phone
    await phones.set_phone(PRIMARY, sms="fail", voice="human")
    calls = _calls_before(stack)
    row = await _crisis(stack, phones, "c-s2")
    call = await _call_to(stack, PRIMARY, calls, row.short_code)
    reprompt = await _press(stack, phones, call, "9")
    assert "<Gather" in reprompt and "retry=1" in reprompt
    ended = await _press(stack, phones, {**call, "twiml": reprompt}, "7")
    assert "<Gather" not in ended and "stays open" in ended
    assert not await _has(stack, row, "DispatchAcknowledged")
    await _close(stack, phones, row)


async def test_unanswered_voice_page_is_redialled_once(
    stack: Stack, primary_phone: SandboxPhones
) -> None:
    """Nobody answers the primary's call: it is dialled again (attempt 1) about 1 s later."""
    phones = primary_phone
    await phones.set_phone(PRIMARY, sms="fail", voice="no-answer")
    calls = _calls_before(stack)
    row = await _crisis(stack, phones, "c-s3")
    first = await _call_to(stack, PRIMARY, calls, row.short_code)
    redial = await until(lambda: _redial_sent(stack, row), what="the redial placed")
    assert redial["index"] > first["index"]
    gap = datetime.fromisoformat(redial["created_at"]) - datetime.fromisoformat(first["created_at"])
    assert gap >= timedelta(seconds=stack.settings.voice_redial_delay_s)
    redial_id = derived_id(_notification_of(first, await _events(stack, row)), "redial", 1)
    await until(
        lambda: _has(stack, row, "PageFailed", notification_id=str(redial_id)),
        what="the redial unanswered too",
    )
    types = [(e.type, e.payload.get("attempt")) for e in await _events(stack, row)]
    assert ("PageRedialScheduled", 1) in types and ("PageRedialScheduled", 2) not in types
    await _close(stack, phones, row)


def _notification_of(call: dict[str, Any], events: list[ArchivedEvent]) -> str:
    """The notification id of the page a sandbox call was placed for."""
    return next(
        e.payload["notification_id"]
        for e in events
        if e.type == "PageSent" and e.payload["provider_sid"] == call["sid"]
    )


async def _redial_sent(stack: Stack, row: Dispatch) -> dict[str, Any] | None:
    """The sandbox call placed for the dispatch's attempt-1 voice page, once it exists."""
    events = await _events(stack, row)
    redials = {
        e.payload["notification_id"]
        for e in events
        if e.type == "PageRequested" and e.payload["attempt"] == 1
    }
    for e in events:
        if e.type == "PageSent" and e.payload["notification_id"] in redials:
            sid = e.payload["provider_sid"]
            return next(c.to_dict() for c in _sandbox(stack).calls if c.sid == sid)
    return None


async def test_ack_cancels_a_page_still_queued(stack: Stack, phones: SandboxPhones) -> None:
    """A page still queued when the dispatch was taken is PageCancelled and no SMS is sent."""
    row = await _crisis(stack, phones, "c-s4")
    status, _ = await phones.send_sms(
        PRIMARY, stack.settings.twilio_from_number, f"ACK {row.short_code}"
    )
    assert status == 200
    await until(lambda: _status(stack, row, "acknowledged"), what="acknowledged")
    after = last_index(stack)
    notification_id = derived_id(row.dispatch_id, 99, south.NURSE, "sms")
    now = stack.clock.now()
    queued = new_event(
        PageRequested(
            notification_id=notification_id,
            dispatch_id=row.dispatch_id,
            step=99,
            attempt=0,
            channel="sms",
            staff_id=south.NURSE,
            to_number=south.PHONES[south.NURSE],
            body=f"ACT CRISIS {row.short_code}: crisis call (client).",
        ),
        key=str(row.dispatch_id),
        event_id=uuid.uuid4(),
        occurred_at=now - timedelta(seconds=1),
        recorded_at=now,
        actor="escalation-agent",
        correlation_id=row.correlation_id,
    )
    await stack.publisher.publish([queued])
    cancelled = await until(
        lambda: _has(stack, row, "PageCancelled", notification_id=str(notification_id)),
        what="PageCancelled",
    )
    assert cancelled.payload["reason"] == "acknowledged"
    pages = {p.notification_id: p for p in await stack.read_models.pages(row.dispatch_id)}
    assert pages[notification_id].status == "cancelled"
    messages = await phones.messages(to=south.PHONES[south.NURSE], after=after)
    assert not any(row.short_code in m["body"] for m in messages)
    await _close(stack, phones, row)


async def test_unsigned_key_press_is_refused_and_changes_nothing(stack: Stack) -> None:
    """A forged Gather post to /twilio/voice/page gets 403 and nothing is spooled."""
    before = await spool_total(stack)
    url = f"{stack.settings.public_base_url}/twilio/voice/page?n={uuid.uuid4()}&d={uuid.uuid4()}"
    form = {"CallSid": "CAforged0002", "Digits": "1"}
    async with aiohttp.ClientSession() as http, http.post(url, data=form) as resp:
        assert resp.status == 403
    assert await spool_total(stack) == before
