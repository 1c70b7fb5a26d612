"""The sandbox's phone console: play the handsets (inbound SMS, calls, key presses), set how
each phone behaves, inject REST faults, and inspect (or long-poll for) what was sent.

Every /sandbox/ endpoint takes and returns JSON. They carry no auth: the sandbox is a local
test tool and binds to 127.0.0.1 by default.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Protocol, TypeVar
from urllib.parse import urljoin
from xml.etree import ElementTree

import aiohttp
import structlog
from aiohttp import web

from integrations.twilio.sandbox_carrier import Carrier
from integrations.twilio.sandbox_state import (
    API_VERSION,
    Journal,
    SandboxMessage,
    SandboxState,
    new_sid,
)

log = structlog.get_logger(__name__)
MAX_WAIT_S = 60.0


class _Recorded(Protocol):
    @property
    def index(self) -> int: ...
    @property
    def to(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...


R = TypeVar("R", bound=_Recorded)


class WebhookNotSetError(RuntimeError):
    """The app's voice or SMS webhook URL is not known to the sandbox yet."""


def _reply_messages(text: str) -> list[ElementTree.Element]:
    """The <Message> elements of a TwiML reply ([] when the reply is not TwiML)."""
    if "<Response" not in text:
        return []
    try:
        root = ElementTree.fromstring(text)  # noqa: S314 - the app's own reply, in a local tool
    except ElementTree.ParseError:
        return []
    return list(root.iter("Message"))


class PhoneConsole:
    """Plays the people holding the phones, in-process or over HTTP."""

    def __init__(self, state: SandboxState, carrier: Carrier) -> None:
        self._state = state
        self._carrier = carrier

    def _base_params(self, from_: str) -> dict[str, str]:
        return {"AccountSid": self._state.account_sid, "ApiVersion": API_VERSION, "From": from_}

    async def inbound_sms(self, from_: str, to: str, body: str) -> tuple[int, str]:
        """A handset texts `to`: the app's SMS webhook gets Twilio's signed form POST.

        <Message> replies in the returned TwiML are sent back (recorded as outbound messages).
        """
        url = self._state.sms_webhook_url
        if not url:
            raise WebhookNotSetError("no SMS webhook URL is set on the sandbox")
        sid = new_sid("SM")
        params = {
            **self._base_params(from_),
            "Body": body,
            "MessageSid": sid,
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "SmsStatus": "received",
            "To": to,
        }
        status, text = await self._carrier.post_webhook(url, self._state.sms_fallback_url, params)
        log.info("sandbox_inbound_sms", sid=sid, http_status=status)
        if status == 200:
            for element in _reply_messages(text):
                await self._send_reply(element, to=from_, from_=to)
        return status, text

    async def _send_reply(self, element: ElementTree.Element, *, to: str, from_: str) -> None:
        body_element = element.find("Body")
        body = (body_element.text if body_element is not None else element.text) or ""
        make = partial(
            SandboxMessage,
            sid=new_sid("SM"),
            account_sid=self._state.account_sid,
            to=element.get("to") or to,
            from_=element.get("from") or from_,
            body=body.strip(),
            status_callback=element.get("action") or element.get("statusCallback"),
            validity_period=None,
            direction="outbound-reply",
        )
        message = await self._state.messages.add(make)
        self._carrier.deliver(message)

    async def inbound_call(
        self, from_: str, to: str, call_sid: str | None = None
    ) -> tuple[int, str]:
        """A handset rings `to`: the app's voice webhook gets the signed ringing request.

        Pass the same `call_sid` again to replay a request, as Twilio does on a retry.
        """
        url = self._state.voice_webhook_url
        if not url:
            raise WebhookNotSetError("no voice webhook URL is set on the sandbox")
        sid = call_sid or new_sid("CA")
        params = {
            **self._base_params(from_),
            "CallSid": sid,
            "CallStatus": "ringing",
            "Called": to,
            "Caller": from_,
            "Direction": "inbound",
            "To": to,
        }
        fallback = self._state.voice_fallback_url
        status, text = await self._carrier.post_webhook(url, fallback, params)
        log.info("sandbox_inbound_call", sid=sid, http_status=status)
        return status, text

    async def press_digits(
        self,
        url: str,
        *,
        call_sid: str,
        from_: str,
        to: str,
        digits: str,
        direction: str = "outbound-api",
    ) -> tuple[int, str]:
        """Post a <Gather> result (Digits=...) to `url`, which may be relative to the voice hook."""
        if not url.startswith(("http://", "https://")):
            if not self._state.voice_webhook_url:
                raise WebhookNotSetError("a relative URL needs the voice webhook URL")
            url = urljoin(self._state.voice_webhook_url, url)
        params = {
            **self._base_params(from_),
            "CallSid": call_sid,
            "CallStatus": "in-progress",
            "Called": to,
            "Caller": from_,
            "Digits": digits,
            "Direction": direction,
            "FinishedOnKey": "",
            "To": to,
        }
        return await self._carrier.post_signed(url, params)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/sandbox", self.describe),
            web.post("/sandbox/webhooks", self.set_webhooks),
            web.get("/sandbox/phones/{number}", self.get_phone),
            web.post("/sandbox/phones/{number}", self.set_phone),
            web.post("/sandbox/credentials", self.set_credentials),
            web.post("/sandbox/faults", self.set_fault),
            web.delete("/sandbox/faults", self.clear_fault),
            web.post("/sandbox/inbound/sms", self.post_inbound_sms),
            web.post("/sandbox/inbound/call", self.post_inbound_call),
            web.post("/sandbox/inbound/digits", self.post_digits),
            web.get("/sandbox/messages", self.inspect_messages),
            web.get("/sandbox/calls", self.inspect_calls),
        ]

    async def describe(self, request: web.Request) -> web.Response:
        state = self._state
        return web.json_response(
            {
                "account_sid": state.account_sid,
                "voice_webhook_url": state.voice_webhook_url,
                "sms_webhook_url": state.sms_webhook_url,
                "voice_fallback_url": state.voice_fallback_url,
                "sms_fallback_url": state.sms_fallback_url,
                "messages": len(state.messages.items),
                "calls": len(state.calls.items),
                "rest_connections": len(state.rest_peers),
                "account_reads": state.account_reads,
            }
        )

    async def set_webhooks(self, request: web.Request) -> web.Response:
        body = await _json(request)
        self._state.voice_webhook_url = body.get("voice_url") or self._state.voice_webhook_url
        self._state.sms_webhook_url = body.get("sms_url") or self._state.sms_webhook_url
        for kind in ("voice", "sms"):  # a fallback URL is set, or cleared with null
            if f"{kind}_fallback_url" in body:
                setattr(self._state, f"{kind}_fallback_url", body[f"{kind}_fallback_url"] or None)
        return await self.describe(request)

    async def get_phone(self, request: web.Request) -> web.Response:
        number = request.match_info["number"]
        phone = self._state.phone(number)
        return web.json_response({"number": number, "sms": phone.sms, "voice": phone.voice})

    async def set_phone(self, request: web.Request) -> web.Response:
        body = await _json(request)
        try:
            self._state.set_phone(
                request.match_info["number"], sms=body.get("sms"), voice=body.get("voice")
            )
        except ValueError as exc:
            raise _bad_request(str(exc)) from None
        return await self.get_phone(request)

    async def set_credentials(self, request: web.Request) -> web.Response:
        """A new auth token, as when it is rotated in Twilio's console: REST requests with
        the old one are refused (401) and webhooks are signed with the new one."""
        body = await _json(request)
        self._state.auth_token = _field(body, "auth_token")
        return web.json_response({"account_sid": self._state.account_sid})

    async def set_fault(self, request: web.Request) -> web.Response:
        body = await _json(request)
        try:
            fault = self._state.inject_fault(
                int(body["status"]),
                int(body.get("count", 1)),
                record=bool(body.get("record", False)),
                delay_s=float(body.get("delay_s", 0.0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise _bad_request(f"bad fault: {exc}") from None
        return web.json_response(
            {
                "status": fault.status,
                "count": fault.remaining,
                "record": fault.record,
                "delay_s": fault.delay_s,
            }
        )

    async def clear_fault(self, request: web.Request) -> web.Response:
        self._state.fault = None
        return web.Response(status=204)

    async def post_inbound_sms(self, request: web.Request) -> web.Response:
        body = await _json(request)
        return await _relay(
            partial(
                self.inbound_sms, _field(body, "from"), _field(body, "to"), _field(body, "body")
            )
        )

    async def post_inbound_call(self, request: web.Request) -> web.Response:
        body = await _json(request)
        call = partial(
            self.inbound_call, _field(body, "from"), _field(body, "to"), body.get("call_sid")
        )
        return await _relay(call)

    async def post_digits(self, request: web.Request) -> web.Response:
        body = await _json(request)
        press = partial(
            self.press_digits,
            _field(body, "url"),
            call_sid=_field(body, "call_sid"),
            from_=_field(body, "from"),
            to=_field(body, "to"),
            digits=_field(body, "digits"),
            direction=str(body.get("direction") or "outbound-api"),
        )
        return await _relay(press)

    async def inspect_messages(self, request: web.Request) -> web.Response:
        """?to=NUMBER&after=N&wait=SECONDS: messages with index > after, long-polling if none."""
        return await _inspect(self._state.messages, request)

    async def inspect_calls(self, request: web.Request) -> web.Response:
        """?to=NUMBER&after=N&wait=SECONDS: calls with index > after, long-polling if none."""
        return await _inspect(self._state.calls, request)


async def _inspect(journal: Journal[R], request: web.Request) -> web.Response:
    to = request.query.get("to")
    if to is not None and to.startswith(" "):
        to = "+" + to.strip()  # an unencoded "+" in a hand-typed query decodes as a space
    try:
        after = int(request.query.get("after", "0"))
        wait_s = min(max(float(request.query.get("wait", "0")), 0.0), MAX_WAIT_S)
    except ValueError:
        raise _bad_request("after must be an integer and wait a number") from None
    found = await journal.wait(lambda item: item.index > after and to in (None, item.to), wait_s)
    return web.json_response([item.to_dict() for item in found])


async def _relay(action: Callable[[], Awaitable[tuple[int, str]]]) -> web.Response:
    """Run an inbound action and report the app's reply as {"status", "body"}."""
    try:
        status, text = await action()
    except WebhookNotSetError as exc:
        return web.json_response({"error": str(exc)}, status=409)
    except (aiohttp.ClientError, TimeoutError) as exc:
        return web.json_response({"error": f"webhook unreachable: {exc!r}"}, status=502)
    return web.json_response({"status": status, "body": text})


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise _bad_request("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise _bad_request("the body must be a JSON object")
    return body


def _field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise _bad_request(f"{name!r} is required (a string)")
    return value


def _bad_request(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")
