"""TwilioSandbox: a local HTTP server speaking the subset of Twilio's REST API the project
uses, posting signed callbacks as Twilio does, and letting a test or a person play the phones.

    sandbox = TwilioSandbox(account_sid, auth_token)
    base_url = await sandbox.start()          # point TWILIO_API_BASE_URL here
    sandbox.set_webhooks(voice_url, sms_url)  # once the app's web server is up
    ...
    await sandbox.stop()

HTTP endpoints: see sandbox_rest (Twilio's API) and sandbox_console (/sandbox/...).
"""

from __future__ import annotations

from types import TracebackType

import structlog
from aiohttp import web

from integrations.twilio.sandbox_carrier import Carrier
from integrations.twilio.sandbox_console import PhoneConsole, WebhookNotSetError
from integrations.twilio.sandbox_phones import SandboxPhones
from integrations.twilio.sandbox_rest import RestApi
from integrations.twilio.sandbox_state import (
    Fault,
    PhoneBehaviour,
    SandboxCall,
    SandboxMessage,
    SandboxState,
)

__all__ = [
    "PhoneBehaviour",
    "SandboxCall",
    "SandboxMessage",
    "SandboxPhones",
    "TwilioSandbox",
    "WebhookNotSetError",
]

log = structlog.get_logger(__name__)


class TwilioSandbox:
    """A local stand-in for api.twilio.com and for the handsets on the other end."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        voice_webhook_url: str | None = None,
        sms_webhook_url: str | None = None,
        step_delay_s: float = 0.01,
        callback_timeout_s: float = 5.0,
    ) -> None:
        self._state = SandboxState(
            account_sid,
            auth_token,
            voice_webhook_url=voice_webhook_url,
            sms_webhook_url=sms_webhook_url,
        )
        self._carrier = Carrier(
            self._state, step_delay_s=step_delay_s, timeout_s=callback_timeout_s
        )
        self._console = PhoneConsole(self._state, self._carrier)
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on host:port (0 = any free port); returns the base URL."""
        if self._runner is not None or self._state.stopping.is_set():
            raise RuntimeError("a sandbox starts once; make a new one")
        app = web.Application(client_max_size=256 * 1024)
        app.add_routes(RestApi(self._state, self._carrier).routes())
        app.add_routes(self._console.routes())
        await self._carrier.start()
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError:
            await runner.cleanup()
            await self._carrier.close()
            raise
        self._runner = runner
        bound_host, bound_port = runner.addresses[0][:2]
        self._base_url = f"http://{bound_host}:{bound_port}"
        log.info("twilio_sandbox_started", base_url=self._base_url)
        return self._base_url

    async def stop(self) -> None:
        """Release long-polls, cancel callbacks in flight and close the server. Idempotent."""
        if self._runner is None:
            return
        self._state.stopping.set()  # cuts injected delays short
        await self._state.messages.close()  # releases long-polls
        await self._state.calls.close()
        await self._runner.cleanup()
        self._runner = None
        await self._carrier.close()
        log.info("twilio_sandbox_stopped", base_url=self._base_url)

    async def __aenter__(self) -> TwilioSandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """http://host:port of the running sandbox (use as TWILIO_API_BASE_URL)."""
        if self._base_url is None:
            raise RuntimeError("the sandbox is not started")
        return self._base_url

    @property
    def account_sid(self) -> str:
        return self._state.account_sid

    @property
    def auth_token(self) -> str:
        return self._state.auth_token

    @property
    def voice_webhook_url(self) -> str | None:
        return self._state.voice_webhook_url

    @property
    def sms_webhook_url(self) -> str | None:
        return self._state.sms_webhook_url

    def set_webhooks(self, voice_url: str | None, sms_url: str | None) -> None:
        """Where inbound calls and texts go (the app's /twilio/voice and /twilio/sms)."""
        self._state.voice_webhook_url = voice_url
        self._state.sms_webhook_url = sms_url

    def set_fallbacks(self, voice_url: str | None, sms_url: str | None = None) -> None:
        """The numbers' fallback URLs, requested when the webhook fails (as Twilio does)."""
        self._state.voice_fallback_url = voice_url
        self._state.sms_fallback_url = sms_url

    @property
    def voice_fallback_url(self) -> str | None:
        return self._state.voice_fallback_url

    @property
    def messages(self) -> list[SandboxMessage]:
        """Every outbound message so far (API sends and TwiML replies), oldest first."""
        return self._state.messages.items

    @property
    def calls(self) -> list[SandboxCall]:
        """Every outbound call so far, oldest first."""
        return self._state.calls.items

    async def wait_for_message(
        self,
        *,
        to: str | None = None,
        after: int = 0,
        timeout: float = 10.0,  # noqa: ASYNC109 - the sandbox's documented API
    ) -> SandboxMessage:
        """The first message (to `to`, if given) with index > `after`; TimeoutError if none."""
        found = await self._state.messages.wait(
            lambda m: m.index > after and to in (None, m.to), timeout
        )
        if not found:
            raise TimeoutError(f"no SMS to {to or 'any number'} after #{after} within {timeout}s")
        return found[0]

    async def wait_for_call(
        self,
        *,
        to: str | None = None,
        after: int = 0,
        timeout: float = 10.0,  # noqa: ASYNC109 - the sandbox's documented API
    ) -> SandboxCall:
        """The first call (to `to`, if given) with index > `after`; TimeoutError if none."""
        found = await self._state.calls.wait(
            lambda c: c.index > after and to in (None, c.to), timeout
        )
        if not found:
            raise TimeoutError(f"no call to {to or 'any number'} after #{after} within {timeout}s")
        return found[0]

    def set_phone(self, number: str, *, sms: str | None = None, voice: str | None = None) -> None:
        """sms: deliver|fail|undelivered; voice: human|machine|no-answer|busy."""
        self._state.set_phone(number, sms=sms, voice=voice)

    def phone(self, number: str) -> PhoneBehaviour:
        return self._state.phone(number)

    def inject_fault(
        self, status: int, count: int = 1, *, record: bool = False, delay_s: float = 0.0
    ) -> Fault:
        """The next `count` create requests fail with `status` (see SandboxState.inject_fault)."""
        return self._state.inject_fault(status, count, record=record, delay_s=delay_s)

    def clear_faults(self) -> None:
        self._state.fault = None

    async def inbound_sms(self, from_: str, to: str, body: str) -> tuple[int, str]:
        """A handset texts `to`; returns the app's (HTTP status, response body)."""
        return await self._console.inbound_sms(from_, to, body)

    async def inbound_call(
        self, from_: str, to: str, call_sid: str | None = None
    ) -> tuple[int, str]:
        """A handset rings `to`; returns the app's (HTTP status, TwiML)."""
        return await self._console.inbound_call(from_, to, call_sid)

    async def press_digits(
        self, url: str, *, call_sid: str, from_: str, to: str, digits: str
    ) -> tuple[int, str]:
        """Post a Gather result to `url`; returns the app's (HTTP status, TwiML)."""
        return await self._console.press_digits(
            url, call_sid=call_sid, from_=from_, to=to, digits=digits
        )
