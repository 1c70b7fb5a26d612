"""The telephony port: the only thing the core knows about SMS and voice providers.

Provider details (Twilio SDK types, HTTP errors) stay behind this interface; adapters map
their failures to TelephonyError with a flag saying whether a retry may succeed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ProviderReceipt:
    """What the provider said when it accepted (or reported on) a message or call."""

    sid: str
    status: str


class TelephonyError(Exception):
    """A provider refused or failed a request.

    provider_fault: the provider's side failed (5xx, timeout), not our request.
    retry_safe: sending again cannot double-send (e.g. HTTP 429: the request was not taken).
    in_doubt: the request may have been taken (5xx/timeout): look it up before resending.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        provider_fault: bool = False,
        retry_safe: bool = False,
        in_doubt: bool = False,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.provider_fault = provider_fault
        self.retry_safe = retry_safe
        self.in_doubt = in_doubt


class Telephony(Protocol):
    async def send_sms(
        self, *, to: str, body: str, status_callback: str | None, validity_s: int
    ) -> ProviderReceipt:
        """Queue one SMS; returns the provider's message SID and status."""
        ...

    async def place_call(
        self,
        *,
        to: str,
        say: str,
        gather_url: str,
        status_callback: str | None,
        detect_machine: bool,
    ) -> ProviderReceipt:
        """Start one outbound voice call that says `say` and gathers one key press, which
        the provider posts to `gather_url`."""
        ...

    async def sent_sms(self, *, to: str, body: str, sent_after: datetime) -> list[ProviderReceipt]:
        """Messages to `to` with exactly `body` sent at or after `sent_after`, newest first
        (after an in-doubt failure: which of them is this page's is the notifier's call)."""
        ...

    async def placed_calls(self, *, to: str, placed_after: datetime) -> list[ProviderReceipt]:
        """Calls to `to` created at or after `placed_after`, newest first."""
        ...

    async def reach(self) -> None:
        """One request that sends nothing: the provider accepts the credentials, and the
        connection the next page uses is open. Raises TelephonyError."""
        ...

    async def close(self) -> None: ...


class NoTelephony:
    """What a process without a Twilio API URL has (a command, a web edge run alone): any
    attempt to page fails loudly instead of reaching the wrong provider."""

    def _refuse(self) -> TelephonyError:
        return TelephonyError("no TWILIO_API_BASE_URL is configured in this process")

    async def send_sms(
        self, *, to: str, body: str, status_callback: str | None, validity_s: int
    ) -> ProviderReceipt:
        raise self._refuse()

    async def place_call(
        self,
        *,
        to: str,
        say: str,
        gather_url: str,
        status_callback: str | None,
        detect_machine: bool,
    ) -> ProviderReceipt:
        raise self._refuse()

    async def sent_sms(self, *, to: str, body: str, sent_after: datetime) -> list[ProviderReceipt]:
        raise self._refuse()

    async def placed_calls(self, *, to: str, placed_after: datetime) -> list[ProviderReceipt]:
        raise self._refuse()

    async def reach(self) -> None:
        raise self._refuse()

    async def close(self) -> None:
        return None
