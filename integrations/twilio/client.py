"""TwilioTelephony: the Telephony port over the official SDK's async REST client.

The SDK has no base-URL option. Twilio's advice is a custom HTTP client, so requests go
through `_BaseUrlHttpClient`, which rewrites https://api.twilio.com to the configured base
(the local sandbox, or a recording proxy) and otherwise behaves like the SDK's own client.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn

import aiohttp
import structlog
from twilio.base.exceptions import TwilioException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from dispatch.paging.telephony import ProviderReceipt, TelephonyError
from integrations.twilio.forms import FORM_CONTENT_TYPE, encoded_form
from integrations.twilio.twiml import voice_page

if TYPE_CHECKING:
    from dispatch.settings import Settings

log = structlog.get_logger(__name__)

TWILIO_API_BASE_URL = "https://api.twilio.com"
# Without these Twilio reports only the final status of a call.
CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]
# Page size of an in-doubt lookup. The lookup follows every page of the window: at a few
# pages a second to one person, the newest 100 messages are under a minute's worth, and a
# page retried later must not miss its own message behind them (and be sent twice).
LOOKUP_PAGE_SIZE = 1000
# How long an idle connection to the provider stays open for the next request (aiohttp's own
# default is 15 s, after which the next page would open a connection and its TLS session
# first). A worker reads the account more often than this (dispatch/paging/provider_link.py).
KEEPALIVE_S = 60.0


class _BaseUrlHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]  # the SDK is untyped
    """The SDK's aiohttp client, sending api.twilio.com requests to another base URL.

    Also applies the client-wide timeout (the SDK's async client ignores it and sends
    requests with no timeout at all), sends Basic auth as a header (aiohttp 3.14
    deprecates its `auth=` argument and BasicAuth) and keeps an idle connection open for
    KEEPALIVE_S.
    """

    def __init__(self, base_url: str, timeout_s: float) -> None:
        super().__init__(pool_connections=False, timeout=timeout_s)
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_S)
        )
        self._base_url = base_url.rstrip("/")

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the SDK's signature
        allow_redirects: bool = False,
    ) -> Any:
        if url.startswith(TWILIO_API_BASE_URL + "/"):
            url = self._base_url + url[len(TWILIO_API_BASE_URL) :]
        headers = dict(headers or {})
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {token}"
        body: dict[str, object] | bytes | None = data
        if data:
            body = encoded_form(data)
            headers.setdefault("Content-Type", FORM_CONTENT_TYPE)
        return await super().request(
            method,
            url,
            params=params,
            data=body,
            headers=headers,
            auth=None,
            timeout=timeout if timeout is not None else self.timeout,
            allow_redirects=allow_redirects,
        )


class TwilioTelephony:
    """SMS and voice through Twilio's REST API (or anything that speaks it at `api_base_url`)."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        api_base_url: str = TWILIO_API_BASE_URL,
        timeout_s: float = 10.0,
        extra_senders: tuple[str, ...] = (),
        lookup_page_size: int = LOOKUP_PAGE_SIZE,
    ) -> None:
        if not api_base_url:
            raise ValueError(f"api_base_url is empty: set the sandbox URL or {TWILIO_API_BASE_URL}")
        self._account_sid = account_sid
        self._auth_token = auth_token
        # A long code sends about one segment a second: a whole-team page spread over
        # several senders does not queue behind itself. Each recipient always hears from
        # the same number, so their replies reach a number we watch.
        self._senders = (from_number, *(n for n in extra_senders if n != from_number))
        self._base_url = api_base_url.rstrip("/")
        self._timeout_s = timeout_s
        self._lookup_page_size = lookup_page_size
        self._sdk: Any = None

    @classmethod
    def from_settings(cls, settings: Settings, *, timeout_s: float = 10.0) -> TwilioTelephony:
        """Build from TWILIO_* settings; TWILIO_API_BASE_URL must be set (sandbox or Twilio)."""
        return cls(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token.get_secret_value(),
            from_number=settings.twilio_from_number,
            api_base_url=settings.twilio_api_base_url,
            timeout_s=timeout_s,
            extra_senders=settings.extra_sender_numbers(),
        )

    def sender_for(self, to: str) -> str:
        """The sender number for a recipient: stable per recipient, spread over the pool."""
        digest = hashlib.sha256(to.encode()).digest()
        return self._senders[int.from_bytes(digest[:4], "big") % len(self._senders)]

    @property
    def api_base_url(self) -> str:
        return self._base_url

    def warm(self) -> None:
        """Build the SDK client and load its message and call resources now: the SDK
        imports them on first use, which took 0.1-0.5 s on a busy machine, and the first
        page must not pay that (a worker warms its telephony before it reports ready)."""
        client = self._client()
        _loaded: Any = (client.messages, client.calls, client.api.v2010.accounts)

    async def reach(self) -> None:
        """Read the account (it sends nothing and costs nothing): the provider accepted the
        credentials, and a connection is open for the next page. Raises TelephonyError
        without logging it: the caller says once that the provider is away, not each try."""
        try:
            await self._client().api.v2010.accounts(self._account_sid).fetch_async()
        except Exception as exc:
            _raise_mapped(exc, "reach", quiet=True)

    def _client(self) -> Any:
        # Created on first use: the SDK's aiohttp session needs a running event loop.
        if self._sdk is None:
            http_client = _BaseUrlHttpClient(self._base_url, self._timeout_s)
            # A non-empty environment stops the SDK reading TWILIO_EDGE/TWILIO_REGION/...
            # from os.environ (an empty one is falsy and falls back to os.environ).
            self._sdk = Client(
                self._account_sid,
                self._auth_token,
                http_client=http_client,
                environment={"TWILIO_SETTINGS": "from-dispatch-settings"},
            )
        return self._sdk

    async def send_sms(
        self, *, to: str, body: str, status_callback: str | None, validity_s: int
    ) -> ProviderReceipt:
        """Queue one SMS; returns the message SID and status (normally "queued")."""
        extra: dict[str, Any] = {}
        if status_callback:
            extra["status_callback"] = status_callback
        try:
            message = await self._client().messages.create_async(
                to=to, from_=self.sender_for(to), body=body, validity_period=validity_s, **extra
            )
        except Exception as exc:  # every failure becomes a TelephonyError
            _raise_mapped(exc, "send_sms")
        log.info("twilio_sms_queued", sid=message.sid, status=message.status)
        return ProviderReceipt(sid=str(message.sid), status=str(message.status))

    async def place_call(
        self,
        *,
        to: str,
        say: str,
        gather_url: str,
        status_callback: str | None,
        detect_machine: bool,
    ) -> ProviderReceipt:
        """Start an outbound call that says `say` and gathers one key press for `gather_url`;
        with detect_machine, Twilio's answering-machine detection is on."""
        extra: dict[str, Any] = {}
        if status_callback:
            extra["status_callback"] = status_callback
            extra["status_callback_event"] = CALL_EVENTS
        if detect_machine:
            extra["machine_detection"] = "Enable"
        try:
            call = await self._client().calls.create_async(
                to=to, from_=self.sender_for(to), twiml=voice_page(say, gather_url), **extra
            )
        except Exception as exc:
            _raise_mapped(exc, "place_call")
        log.info("twilio_call_queued", sid=call.sid, status=call.status)
        return ProviderReceipt(sid=str(call.sid), status=str(call.status))

    async def sent_sms(self, *, to: str, body: str, sent_after: datetime) -> list[ProviderReceipt]:
        """Messages to `to` with exactly `body`, sent at or after `sent_after`, newest first.

        Every page of the window is read, not only the newest: a message is not missed
        however many were sent to the same number after it. Twilio's Message resource does
        not return the StatusCallback it was created with, so which of them is a given
        page's is decided by the caller (its own status callbacks)."""
        since = _utc(sent_after)
        found: list[ProviderReceipt] = []
        try:
            # The SDK formats the datetime as-is with a "Z", so it must already be UTC.
            stream = await self._client().messages.stream_async(
                to=to, date_sent_after=since, page_size=self._lookup_page_size
            )
            async for message in stream:
                if message.body == body:
                    found.append(ProviderReceipt(sid=str(message.sid), status=str(message.status)))
        except Exception as exc:  # every failure becomes a TelephonyError
            _raise_mapped(exc, "find_sms")
        log.info("twilio_sms_listed", candidates=len(found))
        return found

    async def placed_calls(self, *, to: str, placed_after: datetime) -> list[ProviderReceipt]:
        """Calls to `to` created at or after `placed_after`, newest first (a Call resource has
        neither body nor StatusCallback: the caller tells its own call from another's).

        Calls are listed newest first, page after page, until one older than the window:
        Twilio filters calls by start time only, which a queued call does not have yet."""
        since = _utc(placed_after).replace(microsecond=0)
        found: list[ProviderReceipt] = []
        try:
            stream = await self._client().calls.stream_async(
                to=to, page_size=self._lookup_page_size
            )
            async for call in stream:
                if call.date_created is None:
                    continue
                if _utc(call.date_created) < since:
                    break
                found.append(ProviderReceipt(sid=str(call.sid), status=str(call.status)))
        except Exception as exc:
            _raise_mapped(exc, "find_call")
        log.info("twilio_calls_listed", candidates=len(found))
        return found

    async def close(self) -> None:
        """Close the HTTP session (if one was opened)."""
        if self._sdk is not None:
            await self._sdk.http_client.close()
            self._sdk = None


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _raise_mapped(exc: Exception, action: str, *, quiet: bool = False) -> NoReturn:
    """Re-raise any SDK or transport failure as a TelephonyError (no twilio type escapes);
    logged as a warning unless `quiet`."""
    status = getattr(exc, "status", None)
    if isinstance(exc, TwilioException) and isinstance(status, int):
        code = getattr(exc, "code", None)
        detail = getattr(exc, "msg", None) or getattr(exc, "title", "") or ""
        message = f"twilio {action}: HTTP {status} (code {code}): {detail}"
        error = TelephonyError(
            message,
            status_code=status,
            provider_fault=status == 429 or status >= 500,
            retry_safe=status == 429,
            in_doubt=status >= 500,
        )
        if not quiet:
            log.warning(
                "twilio_request_failed",
                action=action,
                status_code=status,
                twilio_code=code,
                retry_safe=error.retry_safe,
                in_doubt=error.in_doubt,
            )
        raise error from None
    if isinstance(exc, aiohttp.ClientError | TimeoutError | json.JSONDecodeError):
        if not quiet:
            log.warning("twilio_unreachable", action=action, error=type(exc).__name__)
        detail = str(exc) or "no reply"
        raise TelephonyError(
            f"twilio {action}: {type(exc).__name__}: {detail}", provider_fault=True, in_doubt=True
        ) from exc
    if isinstance(exc, TwilioException):
        raise TelephonyError(f"twilio {action}: {type(exc).__name__}: {exc}") from None
    raise exc
