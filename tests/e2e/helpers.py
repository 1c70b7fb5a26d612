"""Small helpers the end-to-end tests share: playing phones and reading what happened."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from dispatch.demo.seed import TEAM_ID
from dispatch.stack.runtime import Stack
from projections.models import StaffMember


async def until(predicate: Any, *, within_s: float = 20.0, what: str = "condition") -> Any:
    """Poll an async predicate until it returns something truthy (bounded)."""
    deadline = time.monotonic() + within_s
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {within_s}s waiting for {what}")
        await asyncio.sleep(0.02)


def code_of(sms_body: str) -> str:
    """The dispatch code in a page: 'ACT CRISIS K7M2Q: ...'."""
    return sms_body.split()[2].rstrip(":")


async def archive_types(stack: Stack, correlation_id: uuid.UUID) -> list[str]:
    await stack.projector.wait_until_caught_up(timeout=20)
    return [e.type for e in await stack.read_models.archive(correlation_id=correlation_id)]


async def sms_count(stack: Stack, to: str, containing: str, *, after: int = 0) -> int:
    """Messages to `to` whose text contains `containing` (those after index `after`)."""
    sandbox: Any = stack.sandbox
    return sum(
        1 for m in sandbox.messages if m.to == to and containing in m.body and m.index > after
    )


def last_index(stack: Stack) -> int:
    """The sandbox's newest outbound message index (wait for messages after it)."""
    sandbox: Any = stack.sandbox
    return max((m.index for m in sandbox.messages), default=0)


async def spool_total(
    stack: Stack, key: str | None = None, *, carrier_reports: bool = False
) -> int:
    """Events the web edge has accepted (published or not), all or for one key.

    Delivery reports (actor twilio:status) arrive whenever the carrier sends them, so a
    count taken around a request leaves them out unless asked: they are not the request's.
    """
    total: int = await stack.pool.fetchval(
        """SELECT count(*) FROM ingress_spool
           WHERE ($1::text IS NULL OR key = $1)
             AND ($2 OR convert_from(value, 'UTF8')::jsonb->>'actor' <> 'twilio:status')""",
        key,
        carrier_reports,
    )
    return total


async def on_duty_primary(stack: Stack) -> StaffMember:
    """The demo team's primary on call right now."""
    primary = (await stack.read_models.on_duty(TEAM_ID, stack.clock.now())).primary
    assert primary is not None, "the demo rota covers every instant"
    return primary


async def reply_by_sms(stack: Stack, phones: Any, phone: str, text: str) -> str:
    """A staff member texts a reply to the paging number; returns the confirmation SMS the
    worker sends back once the dispatch's agent has decided it (the webhook answers empty)."""
    code = text.split()[1].upper()
    after = last_index(stack)
    status, twiml = await phones.send_sms(phone, stack.settings.twilio_from_number, text)
    assert status == 200 and "<Message>" not in twiml, twiml
    while True:
        sms = await phones.wait_for_sms(phone, after=after, timeout=20)
        body = str(sms["body"])
        # Not a page to the same phone, nor the late answer to an earlier reply.
        if not body.startswith("ACT ") and code in body:
            return body
        after = sms["index"]


async def next_page(
    phones: Any,
    phone: str,
    *,
    after: int,
    timeout: float = 20.0,  # noqa: ASYNC109 - the sandbox's long-poll, not a local wait
) -> dict[str, Any]:
    """The first page ("ACT ...") to `phone` after message index `after`: the confirmation
    of an earlier staff reply, which the worker texts whenever it is decided, is skipped."""
    while True:
        sms: dict[str, Any] = await phones.wait_for_sms(phone, after=after, timeout=timeout)
        if str(sms["body"]).startswith("ACT "):
            return sms
        after = sms["index"]


async def pages_settled(stack: Stack, client_id: str) -> None:
    """Wait until every page about the client (its dispatches, its outreach tasks) has its
    delivery report, so no late callback lands in a later test."""

    async def settled() -> bool:
        pending: int = await stack.pool.fetchval(
            """SELECT count(*) FROM pages WHERE status NOT IN ('delivered', 'failed', 'cancelled')
                 AND (dispatch_id IN (SELECT dispatch_id FROM dispatches WHERE client_id = $1)
                      OR dispatch_id IN (SELECT task_id FROM outreach_tasks
                                         WHERE client_id = $1))""",
            client_id,
        )
        return pending == 0

    await until(settled, what="delivery reports")
