"""A crisis call's page goes out from the worker that decided it, as soon as the broker has
the page request, and only once (dispatch/worker/pages_at_once.py, decision 049).

A stack of its own, logging at info, so that the worker's log says which way each page went:
the notifier's lines carry `way` (`at_once`, or `topic` when the page topic delivered it)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from dispatch.demo.seed import CLIENT_PHONES
from dispatch.stack.runtime import Stack
from integrations.twilio.sandbox import SandboxPhones
from tests.e2e.helpers import (
    archive_types,
    code_of,
    last_index,
    next_page,
    on_duty_primary,
    sms_count,
    until,
)
from tests.e2e.own_embedded_stack import fresh_own_stack, worker_log


@pytest.fixture
async def own() -> AsyncIterator[Stack]:
    async with fresh_own_stack(log_level="info") as stack:
        yield stack


PAGE_LINES = ("page_sent", "page_already_sent", "page_left_to_topic", "page_failed")


def page_lines(stack: Stack, correlation_id: object) -> list[tuple[str, str | None]]:
    """(event, way) of the notifier's lines about one incident's pages."""
    return [
        (e["event"], e.get("way"))
        for e in worker_log(stack)
        if e.get("event") in PAGE_LINES and e.get("correlation_id") == str(correlation_id)
    ]


async def test_a_calls_page_goes_out_at_once_and_the_page_topic_does_not_send_it_again(
    own: Stack,
) -> None:
    stack = own
    primary = await on_duty_primary(stack)
    after = last_index(stack)
    phones = SandboxPhones(stack.settings.twilio_api_base_url)
    status, _ = await phones.place_call(CLIENT_PHONES["c-01"], stack.settings.crisis_line_number)
    assert status == 200
    sms = await next_page(phones, primary.phone, after=after, timeout=20)
    code = code_of(sms["body"])
    dispatch = await until(lambda: stack.read_models.dispatch_by_code(code), what="dispatch")

    async def page_recorded() -> list[str] | None:
        types = await archive_types(stack, dispatch.correlation_id)
        return types if "PageSent" in types else None

    types = await until(page_recorded, what="PageSent archived")
    # The page topic's copy reached the worker too (the worker reads every partition) and
    # was let go: one SMS, one PageSent, one line of the notifier, and it says "at once".
    await stack.projector.wait_until_caught_up(timeout=20)
    assert types.count("PageSent") == 1 and types.count("PageRequested") == 1
    assert await sms_count(stack, primary.phone, code, after=after) == 1
    assert page_lines(stack, dispatch.correlation_id) == [("page_sent", "at_once")]
