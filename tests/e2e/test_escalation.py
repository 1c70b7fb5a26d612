"""Escalation on the real stack: unanswered pages move up the team's policy."""

from __future__ import annotations

from typing import Any

from dispatch.stack.runtime import Stack
from integrations.twilio.sandbox import SandboxPhones
from tests.e2e import south_team as south
from tests.e2e.helpers import archive_types, code_of, last_index, next_page, reply_by_sms, until


async def _call(stack: Stack, phones: SandboxPhones, client: str) -> str:
    """A client of the south team calls; returns the dispatch code paged to the primary."""
    after = last_index(stack)
    status, twiml = await phones.place_call(south.CLIENTS[client], south.LINE)
    assert status == 200 and south.PHONES[south.PRIMARY] in twiml
    sms = await next_page(phones, south.PHONES[south.PRIMARY], after=after, timeout=20)
    return code_of(sms["body"])


async def test_no_ack_pages_backup_who_acknowledges(stack: Stack, phones: SandboxPhones) -> None:
    """No ACK from the primary within 2 s: the backup is paged, and their ACK takes it."""
    after = last_index(stack)
    code = await _call(stack, phones, "c-s1")
    page = await next_page(phones, south.PHONES[south.BACKUP], after=after, timeout=20)
    assert code_of(page["body"]) == code
    reply = await reply_by_sms(stack, phones, south.PHONES[south.BACKUP], f"ACK {code}")
    assert "is yours" in reply
    row = await until(lambda: _with_status(stack, code, "acknowledged"), what="acknowledged")
    assert row.acknowledged_by == south.BACKUP and row.escalation_sequence == 1
    types = await archive_types(stack, row.correlation_id)
    assert types.count("EscalationDeadlineReached") == 1
    assert types.index("DispatchEscalated") < types.index("DispatchAcknowledged")


async def test_esc_passes_to_next_step_at_once(stack: Stack, phones: SandboxPhones) -> None:
    """ESC from the primary pages the backup straight away (reason: requested)."""
    after = last_index(stack)
    code = await _call(stack, phones, "c-s2")
    reply = await reply_by_sms(stack, phones, south.PHONES[south.PRIMARY], f"ESC {code}")
    assert "passed on" in reply
    page = await next_page(phones, south.PHONES[south.BACKUP], after=after, timeout=20)
    assert code_of(page["body"]) == code
    row = await stack.read_models.dispatch_by_code(code)
    assert row is not None

    async def escalated() -> list[Any]:  # the page can reach the phone before the archive
        events = await stack.read_models.archive(correlation_id=row.correlation_id)
        return [e for e in events if e.type == "DispatchEscalated"]

    found = await until(escalated, what="DispatchEscalated archived")
    assert found[0].payload["reason"] == "requested"
    await phones.send_sms(
        south.PHONES[south.BACKUP], stack.settings.twilio_from_number, f"ACK {code}"
    )
    await until(lambda: _with_status(stack, code, "acknowledged"), what="acknowledged")


async def test_exhausted_policy_pages_everyone_repeatedly(
    stack: Stack, phones: SandboxPhones
) -> None:
    """With nobody answering, the whole team and the manager are paged, and paged again."""
    after = last_index(stack)
    code = await _call(stack, phones, "c-s3")
    manager = south.PHONES[south.MANAGER]
    first = await _page_with_code(phones, manager, code, after=after)
    second = await _page_with_code(phones, manager, code, after=first["index"])
    assert second["index"] > first["index"]
    for staff_id in (south.PRIMARY, south.BACKUP, south.LEAD, south.NURSE):
        messages = await phones.messages(to=south.PHONES[staff_id], after=after)
        assert any(code in m["body"] for m in messages), staff_id
    status, _ = await phones.send_sms(
        south.PHONES[south.NURSE], stack.settings.twilio_from_number, f"ACK {code}"
    )
    assert status == 200
    row = await until(lambda: _with_status(stack, code, "acknowledged"), what="acknowledged")
    assert row.acknowledged_by == south.NURSE


async def _page_with_code(
    phones: SandboxPhones, phone: str, code: str, *, after: int
) -> dict[str, Any]:
    """The next SMS to `phone` about dispatch `code` (pages about other dispatches skipped)."""
    while True:
        sms = await next_page(phones, phone, after=after, timeout=30)
        if code in sms["body"]:
            return sms
        after = sms["index"]


async def _with_status(stack: Stack, code: str, status: str):  # type: ignore[no-untyped-def]
    row = await stack.read_models.dispatch_by_code(code)
    return row if row is not None and row.status == status else None
