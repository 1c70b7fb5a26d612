"""The notifier: PageRequested -> provider -> PageSent or PageFailed, at least once, never twice.

Delivery rules (Twilio facts): a 429 was not taken and is always safe to retry; after a 5xx
or a timeout the message may have been taken, so it is looked up before sending again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

import structlog
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from dispatch.clock import Clock
from dispatch.events.catalogue import PageFailed, PageRequested, PageSent
from dispatch.events.envelope import Envelope, derived_id, new_event
from dispatch.paging.ledger import LedgerEntry, PageLedger
from dispatch.paging.telephony import ProviderReceipt, Telephony, TelephonyError

log = structlog.get_logger(__name__)
ACTOR = "notifier"
# Clock skew allowed between our claim time and the provider's date_sent when looking up.
_LOOKUP_SLACK = timedelta(minutes=2)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    first_wait_s: float = 0.5
    max_wait_s: float = 8.0


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, TelephonyError) and (exc.retry_safe or exc.in_doubt)


class Notifier:
    def __init__(
        self,
        *,
        telephony: Telephony,
        ledger: PageLedger,
        clock: Clock,
        status_callback_base: str | None,
        validity_s: int,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._telephony = telephony
        self._ledger = ledger
        self._clock = clock
        self._callback_base = status_callback_base.rstrip("/") if status_callback_base else None
        self._validity_s = validity_s
        self._retry = retry or RetryPolicy()

    async def deliver(self, request: Envelope) -> list[Envelope]:
        """Send one page (or recognise it as already sent) and return the outcome event."""
        page = request.payload
        if not isinstance(page, PageRequested):
            return []
        entry = await self._ledger.claim(
            notification_id=page.notification_id,
            dispatch_id=page.dispatch_id,
            channel=page.channel,
            now=self._clock.now(),
        )
        bound = log.bind(notification_id=str(page.notification_id), channel=page.channel)
        if entry.state == "sent":
            bound.info("page_already_sent", provider_sid=entry.provider_sid)
            return [self._sent(request, entry.provider_sid or "", entry.provider_status or "")]
        if entry.state == "failed":
            bound.info("page_already_failed", reason=entry.failure_reason)
            return [self._failed(request, entry.failure_reason or "", provider_fault=True)]
        if entry.in_doubt:
            found = await self._lookup(page, entry)
            if found is not None:
                bound.warning("page_found_after_crash", provider_sid=found.sid)
                return await self._record_sent(request, found)
        try:
            receipt = await self._send_with_retry(page, entry)
        except TelephonyError as exc:
            await self._ledger.mark_failed(
                page.notification_id, reason=str(exc), sid=None, now=self._clock.now()
            )
            bound.error("page_failed", reason=str(exc), status_code=exc.status_code)
            return [self._failed(request, str(exc), provider_fault=exc.provider_fault)]
        bound.info("page_sent", provider_sid=receipt.sid, provider_status=receipt.status)
        return await self._record_sent(request, receipt)

    async def _send_with_retry(self, page: PageRequested, entry: LedgerEntry) -> ProviderReceipt:
        in_doubt = False
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(_retryable),
            stop=stop_after_attempt(self._retry.attempts),
            wait=wait_exponential(multiplier=self._retry.first_wait_s, max=self._retry.max_wait_s),
            reraise=True,
        ):
            with attempt:
                if in_doubt:  # the last try may have been taken: look before sending again
                    found = await self._lookup(page, entry)
                    if found is not None:
                        return found
                try:
                    return await self._send(page)
                except TelephonyError as exc:
                    in_doubt = exc.in_doubt
                    raise
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    async def _send(self, page: PageRequested) -> ProviderReceipt:
        if page.channel != "sms":
            raise TelephonyError(f"channel {page.channel} is not wired yet", provider_fault=False)
        return await self._telephony.send_sms(
            to=page.to_number,
            body=page.body,
            status_callback=self._status_url(page),
            validity_s=self._validity_s,
        )

    async def _lookup(self, page: PageRequested, entry: LedgerEntry) -> ProviderReceipt | None:
        return await self._telephony.find_sms(
            to=page.to_number, body=page.body, sent_after=entry.claimed_at - _LOOKUP_SLACK
        )

    def _status_url(self, page: PageRequested) -> str | None:
        if self._callback_base is None:
            return None
        query = urlencode({"n": str(page.notification_id), "d": str(page.dispatch_id)})
        return f"{self._callback_base}/twilio/status?{query}"

    async def _record_sent(self, request: Envelope, receipt: ProviderReceipt) -> list[Envelope]:
        page = request.payload
        assert isinstance(page, PageRequested)
        await self._ledger.mark_sent(
            page.notification_id, sid=receipt.sid, status=receipt.status, now=self._clock.now()
        )
        return [self._sent(request, receipt.sid, receipt.status)]

    def _sent(self, request: Envelope, sid: str, status: str) -> Envelope:
        page = request.payload
        assert isinstance(page, PageRequested)
        return self._outcome(
            request,
            PageSent(
                notification_id=page.notification_id,
                dispatch_id=page.dispatch_id,
                channel=page.channel,
                provider_sid=sid,
                provider_status=status,
            ),
        )

    def _failed(self, request: Envelope, reason: str, *, provider_fault: bool) -> Envelope:
        page = request.payload
        assert isinstance(page, PageRequested)
        return self._outcome(
            request,
            PageFailed(
                notification_id=page.notification_id,
                dispatch_id=page.dispatch_id,
                channel=page.channel,
                reason=reason[:500],
                provider_fault=provider_fault,
            ),
        )

    def _outcome(self, request: Envelope, outcome: PageSent | PageFailed) -> Envelope:
        """The outcome event of a page; its id is derived, so a re-report is one event."""
        now = self._clock.now()
        return new_event(
            outcome,
            key=request.key,
            event_id=derived_id(outcome.notification_id, outcome.event_type),
            occurred_at=now,
            recorded_at=now,
            actor=ACTOR,
            cause=request,
        )
