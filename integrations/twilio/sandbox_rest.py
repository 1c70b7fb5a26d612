"""The sandbox's REST API: the subset of Twilio's 2010-04-01 API the project uses.

Messages.json (create, list with To/From/DateSent filters and paging), Messages/{Sid}.json,
Calls.json (create, list), Calls/{Sid}.json, and the account itself (Accounts/{Sid}.json).
Basic auth, form bodies, Twilio-shaped JSON and errors ({code, message, more_info,
status}), and injected faults.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlencode

import structlog
from aiohttp import web
from multidict import MultiDictProxy

from integrations.twilio.sandbox_carrier import Carrier
from integrations.twilio.sandbox_state import (
    API_VERSION,
    SandboxCall,
    SandboxMessage,
    SandboxState,
    new_sid,
    rfc2822,
)

log = structlog.get_logger(__name__)

ACCOUNT = f"/{API_VERSION}/Accounts/{{account_sid}}"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
CALL_EVENTS = frozenset({"initiated", "ringing", "answered", "completed"})
SANDBOX_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)  # when the sandbox's account "was created"
_FAULT_TEXT = {
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class TwilioError(Exception):
    """A Twilio-shaped error reply."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> web.Response:
        body = {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }
        headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if self.status == 401 else {}
        return web.json_response(body, status=self.status, headers=headers)


Form = MultiDictProxy[Any]  # what aiohttp's request.post() returns


def _require(form: Form, name: str, code: int, message: str) -> str:
    value = str(form.get(name, "")).strip()
    if not value:
        raise TwilioError(400, code, message)
    return value


def _number(value: str, code: int, label: str) -> str:
    if not E164.match(value):
        raise TwilioError(400, code, f"Invalid '{label}' Phone Number: {value}")
    return value


def _callback_url(form: Form) -> str | None:
    url = str(form.get("StatusCallback", "")).strip() or None
    if url is not None and not url.startswith(("http://", "https://")):
        raise TwilioError(400, 21609, f"Invalid StatusCallback URL: {url}")
    return url


def _date(value: str, *, end_of_day: bool = False) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise TwilioError(400, 20001, f"Invalid date: {value}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if end_of_day and len(value) == 10:
        moment += timedelta(days=1, microseconds=-1)
    return moment


class RestApi:
    """aiohttp handlers for the Twilio REST subset; state lives in SandboxState."""

    def __init__(self, state: SandboxState, carrier: Carrier) -> None:
        self._state = state
        self._carrier = carrier

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post(f"{ACCOUNT}/Messages.json", self.create_message),
            web.get(f"{ACCOUNT}/Messages.json", self.list_messages),
            web.get(f"{ACCOUNT}/Messages/{{sid}}.json", self.fetch_message),
            web.post(f"{ACCOUNT}/Calls.json", self.create_call),
            web.get(f"{ACCOUNT}/Calls.json", self.list_calls),
            web.get(f"{ACCOUNT}/Calls/{{sid}}.json", self.fetch_call),
            web.get(f"{ACCOUNT}.json", self.fetch_account),
        ]

    def _authenticate(self, request: web.Request) -> None:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        if peer is not None:
            self._state.rest_peers.add((str(peer[0]), int(peer[1])))
        login, password = _basic_auth(request.headers.get("Authorization", ""))
        valid = (
            login == self._state.account_sid
            and hmac.compare_digest(password.encode(), self._state.auth_token.encode())
            and request.match_info["account_sid"] == self._state.account_sid
        )
        if not valid:
            raise TwilioError(401, 20003, "Authenticate")

    async def _create(
        self,
        request: web.Request,
        record: Callable[[Form], Awaitable[SandboxMessage | SandboxCall]],
        kind: str,
    ) -> web.Response:
        try:
            self._authenticate(request)
            fault = self._state.take_fault()
            if fault is not None and not fault.record:
                await self._state.pause(fault.delay_s)
                log.info("sandbox_fault_injected", kind=kind, status=fault.status, recorded=False)
                raise _fault_error(fault.status)
            resource = await record(await request.post())
            if fault is not None:
                await self._state.pause(fault.delay_s)
                log.info("sandbox_fault_injected", kind=kind, status=fault.status, recorded=True)
                raise _fault_error(fault.status)
        except TwilioError as error:
            return error.response()
        return web.json_response(resource.api_json(), status=201)

    async def create_message(self, request: web.Request) -> web.Response:
        return await self._create(request, self._record_message, "sms")

    async def _record_message(self, form: Form) -> SandboxMessage:
        to = _number(_require(form, "To", 21604, "A 'To' phone number is required."), 21211, "To")
        from_ = _require(form, "From", 21603, "A 'From' phone number is required.")
        _number(from_, 21212, "From")
        body = _require(form, "Body", 21602, "Message body is required.")
        if len(body) > 1600:
            raise TwilioError(400, 21617, "The message body exceeds the 1600 character limit.")
        validity = str(form.get("ValidityPeriod", "")).strip()
        if validity and not (validity.isdigit() and 1 <= int(validity) <= 36000):
            raise TwilioError(400, 20001, "ValidityPeriod must be an integer from 1 to 36000")
        make = partial(
            SandboxMessage,
            sid=new_sid("SM"),
            account_sid=self._state.account_sid,
            to=to,
            from_=from_,
            body=body,
            status_callback=_callback_url(form),
            validity_period=int(validity) if validity else None,
        )
        message = await self._state.messages.add(make)
        self._carrier.deliver(message)
        log.info("sandbox_sms_accepted", sid=message.sid, index=message.index)
        return message

    async def create_call(self, request: web.Request) -> web.Response:
        return await self._create(request, self._record_call, "call")

    async def _record_call(self, form: Form) -> SandboxCall:
        to = _number(_require(form, "To", 21201, "No 'To' number is specified"), 21211, "To")
        from_ = _require(form, "From", 21213, "No 'From' number is specified")
        _number(from_, 21212, "From")
        twiml = str(form.get("Twiml", "")).strip() or None
        url = str(form.get("Url", "")).strip() or None
        if twiml is None and url is None:
            raise TwilioError(400, 21205, "Url parameter is required.")
        detection = str(form.get("MachineDetection", "")).strip() or None
        if detection not in (None, "Enable", "DetectMessageEnd"):
            raise TwilioError(400, 20001, "MachineDetection must be Enable or DetectMessageEnd")
        # Repeated keys or one space-separated value: both reach Twilio in the wild.
        events = frozenset(
            word for value in form.getall("StatusCallbackEvent", []) for word in str(value).split()
        )
        if not events <= CALL_EVENTS:
            raise TwilioError(
                400, 20001, f"StatusCallbackEvent must be among {sorted(CALL_EVENTS)}"
            )
        make = partial(
            SandboxCall,
            sid=new_sid("CA"),
            account_sid=self._state.account_sid,
            to=to,
            from_=from_,
            twiml=twiml,
            url=url,
            status_callback=_callback_url(form),
            status_callback_events=events or frozenset({"completed"}),
            machine_detection=detection,
        )
        call = await self._state.calls.add(make)
        self._carrier.ring(call)
        log.info("sandbox_call_accepted", sid=call.sid, index=call.index)
        return call

    async def list_messages(self, request: web.Request) -> web.Response:
        try:
            self._authenticate(request)
            query = request.query
            matches = _message_filter(query)
        except TwilioError as error:
            return error.response()
        found = [m for m in reversed(self._state.messages.items) if matches(m)]
        return _page(request, "messages", [m.api_json() for m in found])

    async def list_calls(self, request: web.Request) -> web.Response:
        try:
            self._authenticate(request)
        except TwilioError as error:
            return error.response()
        to, from_ = request.query.get("To"), request.query.get("From")
        found = [
            c
            for c in reversed(self._state.calls.items)
            if (to is None or c.to == to) and (from_ is None or c.from_ == from_)
        ]
        return _page(request, "calls", [c.api_json() for c in found])

    async def fetch_message(self, request: web.Request) -> web.Response:
        sid = request.match_info["sid"]
        return self._fetch(request, self._state.messages.find(lambda m: m.sid == sid))

    async def fetch_call(self, request: web.Request) -> web.Response:
        sid = request.match_info["sid"]
        return self._fetch(request, self._state.calls.find(lambda c: c.sid == sid))

    async def fetch_account(self, request: web.Request) -> web.Response:
        try:
            self._authenticate(request)
        except TwilioError as error:
            return error.response()
        self._state.account_reads += 1
        sid = self._state.account_sid
        uri = f"/{API_VERSION}/Accounts/{sid}.json"
        return web.json_response({
            "sid": sid,
            "owner_account_sid": sid,
            "friendly_name": "Sandbox account",
            "status": "active",
            "type": "Full",
            "date_created": rfc2822(SANDBOX_EPOCH),
            "date_updated": rfc2822(SANDBOX_EPOCH),
            "uri": uri,
            "subresource_uris": {
                "messages": uri.replace(".json", "/Messages.json"),
                "calls": uri.replace(".json", "/Calls.json"),
            },
        })  # fmt: skip

    def _fetch(
        self, request: web.Request, found: SandboxMessage | SandboxCall | None
    ) -> web.Response:
        try:
            self._authenticate(request)
            if found is None:
                raise TwilioError(
                    404, 20404, f"The requested resource {request.path} was not found"
                )
        except TwilioError as error:
            return error.response()
        return web.json_response(found.api_json())


def _basic_auth(header: str) -> tuple[str, str]:
    """(login, password) from an Authorization: Basic header; empty strings if absent/bad."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    login, _, password = decoded.partition(":")
    return login, password


def _fault_error(status: int) -> TwilioError:
    return TwilioError(status, 20000 + status, _FAULT_TEXT.get(status, "Error"))


def _message_filter(query: Mapping[str, str]) -> Callable[[SandboxMessage], bool]:
    """Twilio's list filters; DateSent applies to date_sent, or date_created while queued."""
    to, from_ = query.get("To"), query.get("From")
    on = query.get("DateSent")
    after = _date(query["DateSent>"]) if "DateSent>" in query else None
    before = _date(query["DateSent<"], end_of_day=True) if "DateSent<" in query else None
    if on is not None:
        after, before = _date(on), _date(on, end_of_day=True)

    def matches(message: SandboxMessage) -> bool:
        sent = (message.date_sent or message.created_at).replace(microsecond=0)
        return (
            (to is None or message.to == to)
            and (from_ is None or message.from_ == from_)
            and (after is None or sent >= after)
            and (before is None or sent <= before)
        )

    return matches


def _page(request: web.Request, key: str, records: list[dict[str, Any]]) -> web.Response:
    """Twilio's 2010-04-01 list shape; the SDK follows next_page_uri."""
    try:
        size = min(max(int(request.query.get("PageSize", "50")), 1), 1000)
        number = max(int(request.query.get("Page", "0")), 0)
    except ValueError:
        return TwilioError(400, 20001, "PageSize and Page must be integers").response()
    filters = [(k, v) for k, v in request.query.items() if k not in {"PageSize", "Page"}]

    def uri(page: int) -> str:
        return f"{request.path}?{urlencode([*filters, ('PageSize', size), ('Page', page)])}"

    start = number * size
    chunk = records[start : start + size]
    return web.json_response(
        {
            key: chunk,
            "end": start + max(len(chunk) - 1, 0),
            "first_page_uri": uri(0),
            "next_page_uri": uri(number + 1) if start + size < len(records) else None,
            "page": number,
            "page_size": size,
            "previous_page_uri": uri(number - 1) if number > 0 else None,
            "start": start,
            "uri": uri(number),
        }
    )
