"""What the Twilio sandbox remembers: messages, calls, phone behaviours and pending faults."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Generic, Literal, Protocol, TypeVar, cast

API_VERSION = "2010-04-01"
SmsBehaviour = Literal["deliver", "fail", "undelivered"]
VoiceBehaviour = Literal["human", "machine", "no-answer", "busy"]
SMS_BEHAVIOURS: frozenset[str] = frozenset({"deliver", "fail", "undelivered"})
VOICE_BEHAVIOURS: frozenset[str] = frozenset({"human", "machine", "no-answer", "busy"})
FAULT_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504})


def new_sid(prefix: str) -> str:
    """A Twilio-shaped SID: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


def utcnow() -> datetime:
    return datetime.now(UTC)


def rfc2822(moment: datetime | None) -> str | None:
    """Twilio's REST date format, e.g. "Tue, 25 Nov 2025 09:30:00 +0000"."""
    return format_datetime(moment.replace(microsecond=0)) if moment else None


@dataclass(frozen=True)
class PhoneBehaviour:
    """How a simulated handset answers: SMS deliver/fail/undelivered; voice outcome."""

    sms: SmsBehaviour = "deliver"
    voice: VoiceBehaviour = "human"


@dataclass
class Fault:
    """The next `remaining` create requests fail with `status` (after recording, if `record`)."""

    status: int
    remaining: int
    record: bool = False
    delay_s: float = 0.0


@dataclass
class SandboxMessage:
    """One outbound SMS as the sandbox recorded it (status moves on as the carrier reports)."""

    index: int
    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None
    validity_period: int | None
    direction: str = "outbound-api"
    status: str = "queued"
    error_code: int | None = None
    created_at: datetime = field(default_factory=utcnow)
    date_sent: datetime | None = None
    updated_at: datetime = field(default_factory=utcnow)

    def api_json(self) -> dict[str, Any]:
        """The resource as Twilio's REST API returns it."""
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": rfc2822(self.created_at),
            "date_sent": rfc2822(self.date_sent),
            "date_updated": rfc2822(self.updated_at),
            "direction": self.direction,
            "error_code": self.error_code,
            "error_message": None,
            "from": self.from_,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": str(max(1, -(-len(self.body) // 153))),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": self.to,
            "uri": uri,
        }

    def to_dict(self) -> dict[str, Any]:
        """The sandbox's own inspection view (GET /sandbox/messages)."""
        return {
            "index": self.index,
            "sid": self.sid,
            "to": self.to,
            "from": self.from_,
            "body": self.body,
            "status": self.status,
            "error_code": self.error_code,
            "direction": self.direction,
            "status_callback": self.status_callback,
            "created_at": self.created_at.isoformat(),
        }


@dataclass
class SandboxCall:
    """One outbound call as the sandbox recorded it."""

    index: int
    sid: str
    account_sid: str
    to: str
    from_: str
    twiml: str | None
    url: str | None
    status_callback: str | None
    status_callback_events: frozenset[str]
    machine_detection: str | None
    status: str = "queued"
    answered_by: str | None = None
    duration_s: int | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)

    def api_json(self) -> dict[str, Any]:
        """The resource as Twilio's REST API returns it."""
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}.json"
        return {
            "account_sid": self.account_sid,
            "annotation": None,
            "answered_by": self.answered_by,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": rfc2822(self.created_at),
            "date_updated": rfc2822(self.updated_at),
            "direction": "outbound-api",
            "duration": None if self.duration_s is None else str(self.duration_s),
            "end_time": None,
            "forwarded_from": None,
            "from": self.from_,
            "from_formatted": self.from_,
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": self.sid,
            "start_time": None,
            "status": self.status,
            "subresource_uris": {},
            "to": self.to,
            "to_formatted": self.to,
            "trunk_sid": None,
            "uri": uri,
        }

    def to_dict(self) -> dict[str, Any]:
        """The sandbox's own inspection view (GET /sandbox/calls)."""
        return {
            "index": self.index,
            "sid": self.sid,
            "to": self.to,
            "from": self.from_,
            "twiml": self.twiml,
            "url": self.url,
            "status": self.status,
            "answered_by": self.answered_by,
            "machine_detection": self.machine_detection,
            "status_callback": self.status_callback,
            "created_at": self.created_at.isoformat(),
        }


class _Indexed(Protocol):
    @property
    def index(self) -> int: ...


T = TypeVar("T", bound=_Indexed)


class Journal(Generic[T]):
    """An append-only list whose readers can wait (on a Condition) for a matching entry."""

    def __init__(self) -> None:
        self._items: list[T] = []
        self._changed = asyncio.Condition()
        self._closed = False

    @property
    def items(self) -> list[T]:
        return list(self._items)

    def find(self, match: Callable[[T], bool]) -> T | None:
        return next((item for item in self._items if match(item)), None)

    async def add(self, make: Callable[[int], T]) -> T:
        """Append `make(index)`; indexes count from 1 in arrival order."""
        async with self._changed:
            item = make(len(self._items) + 1)
            self._items.append(item)
            self._changed.notify_all()
            return item

    async def touch(self) -> None:
        """Wake waiters after an entry changed (e.g. its status)."""
        async with self._changed:
            self._changed.notify_all()

    async def wait(self, match: Callable[[T], bool], wait_s: float) -> list[T]:
        """Entries matching now; if none, wait up to `wait_s` seconds for one to appear."""
        async with self._changed:
            if wait_s > 0:
                try:
                    async with asyncio.timeout(wait_s):
                        await self._changed.wait_for(
                            lambda: self._closed or any(map(match, self._items))
                        )
                except TimeoutError:
                    pass
            return [item for item in self._items if match(item)]

    async def close(self) -> None:
        """Release every waiter (the sandbox is stopping)."""
        async with self._changed:
            self._closed = True
            self._changed.notify_all()


class SandboxState:
    """Everything the REST API, the carrier and the phone console share."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        voice_webhook_url: str | None,
        sms_webhook_url: str | None,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.voice_webhook_url = voice_webhook_url
        self.sms_webhook_url = sms_webhook_url
        # The number's "primary handler fails" URLs (Twilio's VoiceFallbackUrl, SmsFallbackUrl).
        self.voice_fallback_url: str | None = None
        self.sms_fallback_url: str | None = None
        self.messages: Journal[SandboxMessage] = Journal()
        self.calls: Journal[SandboxCall] = Journal()
        self.phones: dict[str, PhoneBehaviour] = {}
        self.fault: Fault | None = None
        self.stopping = asyncio.Event()
        # which client connections (host, port) made REST requests, and how many account
        # reads (GET Accounts/{sid}.json, what a worker keeps its connection open with)
        self.rest_peers: set[tuple[str, int]] = set()
        self.account_reads = 0

    def phone(self, number: str) -> PhoneBehaviour:
        return self.phones.get(number, PhoneBehaviour())

    def set_phone(self, number: str, *, sms: str | None = None, voice: str | None = None) -> None:
        """Change how `number` behaves; unknown behaviours raise ValueError."""
        if sms is not None and sms not in SMS_BEHAVIOURS:
            raise ValueError(f"sms must be one of {sorted(SMS_BEHAVIOURS)}")
        if voice is not None and voice not in VOICE_BEHAVIOURS:
            raise ValueError(f"voice must be one of {sorted(VOICE_BEHAVIOURS)}")
        current = self.phone(number)
        self.phones[number] = PhoneBehaviour(
            sms=cast(SmsBehaviour, sms or current.sms),
            voice=cast(VoiceBehaviour, voice or current.voice),
        )

    def inject_fault(
        self, status: int, count: int = 1, *, record: bool = False, delay_s: float = 0.0
    ) -> Fault:
        """Make the next `count` create requests fail with `status` (replaces any pending fault).

        `record` (5xx only) stores the message/call before failing: the "in doubt" case.
        `delay_s` holds the reply that long first, to provoke client timeouts.
        """
        if status not in FAULT_STATUSES:
            raise ValueError(f"status must be one of {sorted(FAULT_STATUSES)}")
        if count < 1 or not 0 <= delay_s <= 60:
            raise ValueError("count must be >= 1 and delay_s within 0..60")
        if record and status < 500:
            raise ValueError("record applies to 5xx faults only (a 429 was never taken)")
        self.fault = Fault(status=status, remaining=count, record=record, delay_s=delay_s)
        return self.fault

    def take_fault(self) -> Fault | None:
        """Consume one use of the pending fault, if any."""
        fault = self.fault
        if fault is None:
            return None
        fault.remaining -= 1
        if fault.remaining <= 0:
            self.fault = None
        return fault

    async def pause(self, seconds: float) -> None:
        """Sleep up to `seconds`, returning early when the sandbox stops."""
        if seconds <= 0 or self.stopping.is_set():
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):  # no task of its own, as wait_for makes
                await self.stopping.wait()
