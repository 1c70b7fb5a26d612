"""Twilio's REST API failing for a while: the page goes to the other channel, is tried again
until it goes out, and the team's manager is told once. A stack of its own (the worker reads
PAGE_RETRY_* from its environment)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from dispatch.demo.seed import CLIENT_PHONES, TEAM_ID
from dispatch.events import new_event
from dispatch.rota.events import StaffRegistered
from dispatch.stack.runtime import Stack
from integrations.twilio.sandbox import SandboxPhones
from tests.e2e.helpers import code_of, last_index, next_page, on_duty_primary, sms_count, until
from tests.e2e.own_embedded_stack import fresh_own_stack, worker_log

MANAGER_PHONE = "+15550700001"


@pytest.fixture
async def own(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Stack]:
    monkeypatch.setenv("PAGE_RETRY_FIRST_S", "1")
    monkeypatch.setenv("PAGE_RETRY_MAX_S", "4")
    async with fresh_own_stack() as stack:
        now = stack.clock.now()
        manager = StaffRegistered(
            staff_id="s-n-mgr",
            team_id=TEAM_ID,
            display_name="Manager",
            role="manager",
            gender="unspecified",
            phone=MANAGER_PHONE,
        )
        event = new_event(manager, key=TEAM_ID, occurred_at=now, recorded_at=now, actor="test")
        await stack.publisher.publish([event])
        await stack.projector.wait_until_caught_up(timeout=20)
        yield stack


async def test_a_page_during_a_twilio_outage_goes_out_when_twilio_is_back(own: Stack) -> None:
    """Every REST request fails with 500 until the failover has happened: then the primary
    gets the page (one SMS) and a call, and the manager one notice."""
    stack = own
    primary = await on_duty_primary(stack)
    after = last_index(stack)
    phones = SandboxPhones(stack.settings.twilio_api_base_url)
    try:
        await phones.inject_fault(500, count=10_000)
        status, _ = await phones.place_call(
            CLIENT_PHONES["c-08"], stack.settings.crisis_line_number
        )
        assert status == 200

        async def failed_over() -> bool:
            return any(e.get("event") == "page_provider_failing" for e in worker_log(stack))

        await until(failed_over, within_s=40, what="a page to fail at the provider")
        await phones.clear_faults()
        sms = await next_page(phones, primary.phone, after=after, timeout=40)
        code = code_of(sms["body"])
        call = await phones.wait_for_call(primary.phone, timeout=30)
        notice = await phones.wait_for_sms(MANAGER_PHONE, timeout=30)
    finally:
        await phones.close()
    assert call["to"] == primary.phone
    assert code in notice["body"] and "phone provider" in notice["body"]
    assert await sms_count(stack, primary.phone, f" {code}:") == 1
    assert await sms_count(stack, MANAGER_PHONE, code) == 1
