"""Shared builders for the notifier integration tests: page requests, notifier, sandbox counts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
from aiohttp import web

from dispatch.clock import SystemClock
from dispatch.crisis.decide import Responder, open_dispatch
from dispatch.crisis.events import CrisisCallReceived
from dispatch.events import Envelope, derived_id, new_event
from dispatch.paging.events import PageRequested
from dispatch.paging.ledger import PageLedger
from dispatch.paging.notifier import DispatchLookup, Notifier, RetryPolicy
from integrations.twilio.client import TwilioTelephony
from integrations.twilio.sandbox import TwilioSandbox

NURSE = Responder(staff_id="s-nurse", phone="+15550100001")
T0 = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


def crisis_call(call_sid: str) -> Envelope:
    """A client's crisis call that dialled the nurse."""
    return new_event(
        CrisisCallReceived(
            call_sid=call_sid,
            caller_number="+15550200001",
            caller_kind="client",
            client_id="c-01",
            team_id="act-north",
            dialled_staff_id=NURSE.staff_id,
        ),
        key="c-01",
        event_id=derived_id("twilio-call", call_sid),
        occurred_at=T0,
        recorded_at=T0,
        actor="test",
    )


def page_request(call_sid: str) -> Envelope:
    """The SMS PageRequested to the nurse for a crisis call."""
    return open_dispatch(crisis_call(call_sid), responder=NURSE, now=T0)[1]


def opened_and_page(call_sid: str, channel: str = "voice") -> tuple[Envelope, Envelope]:
    """The DispatchOpened for a crisis call and its page to the nurse (voice unless "sms")."""
    opened, sms = open_dispatch(crisis_call(call_sid), responder=NURSE, now=T0)
    if channel == "sms":
        return opened, sms
    p = sms.payload
    assert isinstance(p, PageRequested)
    voice = p.model_copy(
        update={
            "channel": "voice",
            "notification_id": derived_id(p.dispatch_id, 0, NURSE.staff_id, "voice"),
        }
    )
    return opened, new_event(
        voice, key=sms.key, occurred_at=T0, recorded_at=T0, actor="paging-failover", cause=sms
    )


def notifier(
    pool: asyncpg.Pool,
    telephony: TwilioTelephony,
    *,
    status_callback_base: str | None = None,
    dispatches: DispatchLookup | None = None,
    wait_s: float = 5.0,
) -> Notifier:
    return Notifier(
        telephony=telephony,
        ledger=PageLedger(pool),
        clock=SystemClock(),
        status_callback_base=status_callback_base,
        validity_s=600,
        retry=RetryPolicy(attempts=4, first_wait_s=0.01, max_wait_s=0.05),
        dispatches=dispatches,
        callback_wait_s=wait_s,
    )


def sms_to_nurse(sandbox: TwilioSandbox) -> int:
    return sum(1 for m in sandbox.messages if m.to == NURSE.phone)


def calls_to_nurse(sandbox: TwilioSandbox) -> int:
    return sum(1 for c in sandbox.calls if c.to == NURSE.phone)


class StatusCallbacks:
    """Our status-callback endpoint in miniature: a local HTTP server that records, like
    the web edge's /twilio/status, which provider SID each callback names (n=)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._ledger = PageLedger(pool)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def _status(self, request: web.Request) -> web.Response:
        form = await request.post()
        sid = str(form.get("CallSid") or form.get("MessageSid"))
        status = str(form.get("CallStatus") or form.get("MessageStatus"))
        notification_id = uuid.UUID(request.query["n"])
        await self._ledger.record_callback(notification_id, sid=sid, status=status, now=T0)
        return web.Response(status=204)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/twilio/status", self._status)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
