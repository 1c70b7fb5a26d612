"""PostgreSQL away for a while: the dispatch agent waits for it and pages the call after.

This test runs a stack of its own (its own embedded PostgreSQL, broker, sandbox and worker),
stops that PostgreSQL by PID and starts it again on the same data directory and port.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest

from dispatch.crisis.events import CrisisCallReceived
from dispatch.demo.seed import CLIENT_PHONES, TEAM_ID
from dispatch.events import Envelope, new_event
from dispatch.stack.postgres import EmbeddedPostgres
from dispatch.stack.runtime import Stack
from integrations.twilio.sandbox import SandboxPhones
from integrations.twilio.signatures import SIGNATURE_HEADER, sign
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
    async with fresh_own_stack() as stack:
        yield stack


def crisis_call(stack: Stack, client_id: str) -> Envelope:
    """A crisis call from a client, as the web edge records it (the edge needs PostgreSQL to
    spool it, so here it goes straight to the broker, as one relayed before the outage)."""
    now = stack.clock.now()
    return new_event(
        CrisisCallReceived(
            call_sid=f"CA-outage-{client_id}",
            caller_number=CLIENT_PHONES[client_id],
            caller_kind="client",
            client_id=client_id,
            team_id=TEAM_ID,
            dialled_staff_id=None,
        ),
        key=client_id,
        occurred_at=now,
        recorded_at=now,
        actor="twilio:voice",
    )


async def test_a_call_received_while_postgres_is_down_is_paged_once_it_is_back(
    own: Stack,
) -> None:
    """The dispatch agent retries the call in place while PostgreSQL is stopped, and pages
    the on-duty primary once, after PostgreSQL is started again."""
    stack = own
    primary = await on_duty_primary(stack)
    after = last_index(stack)
    old = stack.postgres
    port, data_dir = old.port, old.data_dir
    await old.stop()  # SIGINT to its postmaster, by PID
    restarted = EmbeddedPostgres(data_dir, port=port, durable=False)
    phones = SandboxPhones(stack.settings.twilio_api_base_url)
    try:
        await stack.publisher.publish([crisis_call(stack, "c-08")])

        async def retrying() -> bool:
            return any(
                e.get("event") == "agent_event_retrying"
                and e.get("agent") == "dispatch-crisis-contacts"
                and e.get("failure") == "transient"
                for e in worker_log(stack)
            )

        await until(retrying, within_s=30, what="the dispatch agent to meet the outage")
        await restarted.start()
        sms = await next_page(phones, primary.phone, after=after, timeout=45)
        code = code_of(sms["body"])
        assert await sms_count(stack, primary.phone, f" {code}:") == 1
        dead = [e for e in worker_log(stack) if e.get("event") == "event_dead_lettered"]
        assert dead == []
    finally:
        await phones.close()
        await restarted.stop()


async def test_a_delivery_report_while_postgres_is_down_is_kept_on_its_incident(
    own: Stack,
) -> None:
    """A page's status callback that arrives while PostgreSQL is stopped is answered and
    kept (the spool's file), and once PostgreSQL is back its PageDelivered is in the
    archive on the incident its URL named: nothing had to be read to record it."""
    stack = own
    s = stack.settings
    old = stack.postgres
    port, data_dir = old.port, old.data_dir
    page, dispatch, incident = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    url = f"{s.public_base_url}/twilio/status?n={page}&d={dispatch}&c={incident}"
    form = {"AccountSid": s.twilio_account_sid, "MessageSid": "SMoutage0001",
            "MessageStatus": "delivered", "To": "+15005550100"}  # fmt: skip
    signature = sign(url, form, s.twilio_auth_token.get_secret_value())
    await old.stop()  # SIGINT to its postmaster, by PID
    restarted = EmbeddedPostgres(data_dir, port=port, durable=False)
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(url, data=form, headers={SIGNATURE_HEADER: signature}) as resp,
        ):
            assert resp.status == 204
        await restarted.start()

        async def on_its_incident() -> list[str] | None:
            types = await archive_types(stack, incident)
            return types or None

        assert await until(on_its_incident, within_s=60, what="the report archived") == [
            "PageDelivered"
        ]
    finally:
        await restarted.stop()
