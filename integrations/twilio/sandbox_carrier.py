"""The sandbox's simulated carrier: moves messages and calls through their statuses and
posts the signed status callbacks Twilio would post, in background tasks.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Coroutine, Mapping
from typing import Any

import aiohttp
import structlog

from integrations.twilio.forms import FORM_CONTENT_TYPE, encoded_form
from integrations.twilio.sandbox_state import (
    API_VERSION,
    SandboxCall,
    SandboxMessage,
    SandboxState,
    rfc2822,
    utcnow,
)
from integrations.twilio.signatures import SIGNATURE_HEADER, sign

log = structlog.get_logger(__name__)

# (status, Twilio error code) steps after the initial "queued", per handset behaviour.
_SMS_STEPS: dict[str, list[tuple[str, int | None]]] = {
    "deliver": [("sent", None), ("delivered", None)],
    "undelivered": [("sent", None), ("undelivered", 30003)],
    "fail": [("failed", 30008)],
}
_CALL_STEPS: dict[str, list[str]] = {
    "human": ["initiated", "ringing", "in-progress", "completed"],
    "machine": ["initiated", "ringing", "in-progress", "completed"],
    "no-answer": ["initiated", "ringing", "no-answer"],
    "busy": ["initiated", "busy"],
}
# Which StatusCallbackEvent subscription covers each call status.
_CALL_EVENT = {"initiated": "initiated", "ringing": "ringing", "in-progress": "answered"}


class Carrier:
    """Delivers what the REST API accepted; every callback is signed with the auth token."""

    def __init__(self, state: SandboxState, *, step_delay_s: float, timeout_s: float) -> None:
        self._state = state
        self._step_delay_s = step_delay_s
        self._timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout_s))

    async def close(self) -> None:
        """Cancel callbacks still in flight, then close the HTTP session."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run `work` in the background; it is tracked and cancelled on close."""
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("sandbox_task_failed", task=task.get_name(), error=repr(task.exception()))

    async def post_signed(self, url: str, params: Mapping[str, str]) -> tuple[int, str]:
        """POST form `params` to `url` with X-Twilio-Signature, as Twilio does."""
        if self._session is None:
            raise RuntimeError("the sandbox is not started")
        headers = {
            SIGNATURE_HEADER: sign(url, params, self._state.auth_token),
            "User-Agent": "TwilioProxy/1.1",
            "I-Twilio-Idempotency-Token": secrets.token_hex(16),
            "Content-Type": FORM_CONTENT_TYPE,
        }
        async with self._session.post(url, data=encoded_form(params), headers=headers) as response:
            return response.status, await response.text()

    async def post_webhook(
        self, url: str, fallback_url: str | None, params: Mapping[str, str]
    ) -> tuple[int, str]:
        """POST an inbound call's or text's webhook as Twilio does: when the primary URL
        cannot be reached, times out or answers an HTTP error, the number's fallback URL
        (if set) gets the same request plus ErrorCode 11200 and ErrorUrl."""
        try:
            status, text = await self.post_signed(url, params)
            if status < 400 or not fallback_url:
                return status, text
            failure = f"HTTP {status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            if not fallback_url:
                raise
            failure = type(exc).__name__
        log.warning("sandbox_webhook_fallback", url=url, failure=failure, fallback=fallback_url)
        return await self.post_signed(
            fallback_url, {**params, "ErrorCode": "11200", "ErrorUrl": url}
        )

    async def _callback(self, url: str, params: Mapping[str, str], sid: str) -> None:
        try:
            status, _ = await self.post_signed(url, params)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("sandbox_callback_failed", sid=sid, error=type(exc).__name__)
            return
        log.debug("sandbox_callback_posted", sid=sid, http_status=status)

    def deliver(self, message: SandboxMessage) -> None:
        """Start moving an accepted (queued) message on to sent -> delivered (or not), one
        signed callback per change of status."""
        self.spawn(self._deliver(message), name=f"sms-{message.sid}")

    async def _deliver(self, message: SandboxMessage) -> None:
        # The message was created "queued"; as Twilio, no callback reports that initial
        # status (twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks).
        for status, error_code in _SMS_STEPS[self._state.phone(message.to).sms]:
            await self._state.pause(self._step_delay_s)
            now = utcnow()
            message.status, message.error_code, message.updated_at = status, error_code, now
            if status == "sent":
                message.date_sent = now
            await self._state.messages.touch()
            if message.status_callback:
                params = {
                    "AccountSid": message.account_sid,
                    "ApiVersion": API_VERSION,
                    "From": message.from_,
                    "MessageSid": message.sid,
                    "MessageStatus": status,
                    "SmsSid": message.sid,
                    "SmsStatus": status,
                    "To": message.to,
                }
                if error_code is not None:
                    params["ErrorCode"] = str(error_code)
                await self._callback(message.status_callback, params, message.sid)

    def ring(self, call: SandboxCall) -> None:
        """Start moving an accepted call through initiated -> ... -> completed (or not)."""
        self.spawn(self._ring(call), name=f"call-{call.sid}")

    async def _ring(self, call: SandboxCall) -> None:
        voice = self._state.phone(call.to).voice
        answered_at = None
        posted = 0  # Twilio's SequenceNumber counts the callbacks actually sent
        for step, status in enumerate(_CALL_STEPS[voice]):
            if step:
                await self._state.pause(self._step_delay_s)
            now = utcnow()
            call.status, call.updated_at = status, now
            if status == "in-progress":
                answered_at = now
                if call.machine_detection:
                    call.answered_by = "machine_start" if voice == "machine" else "human"
            if status == "completed" and answered_at is not None:
                call.duration_s = max(1, round((now - answered_at).total_seconds()))
            await self._state.calls.touch()
            event = _CALL_EVENT.get(status, "completed")
            if call.status_callback and event in call.status_callback_events:
                params = _call_params(call, posted)
                await self._callback(call.status_callback, params, call.sid)
                posted += 1


def _call_params(call: SandboxCall, sequence: int) -> dict[str, str]:
    params = {
        "AccountSid": call.account_sid,
        "ApiVersion": API_VERSION,
        "CallSid": call.sid,
        "CallStatus": call.status,
        "CallbackSource": "call-progress-events",
        "Called": call.to,
        "Caller": call.from_,
        "Direction": "outbound-api",
        "From": call.from_,
        "SequenceNumber": str(sequence),
        "Timestamp": rfc2822(call.updated_at) or "",
        "To": call.to,
    }
    if call.answered_by is not None:
        params["AnsweredBy"] = call.answered_by
    if call.duration_s is not None:
        params["CallDuration"] = params["Duration"] = str(call.duration_s)
    return params
