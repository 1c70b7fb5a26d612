"""The notifier: PageRequested -> provider -> PageSent or PageFailed, at least once, never twice.

Delivery rules (Twilio facts): a 429 was not taken and is always safe to retry; after a 5xx
or a timeout the message (or call) may have been taken, so it is looked up before sending
again. Before a page is first sent, its dispatch is read: a page of a dispatch already
acknowledged or resolved is not sent but recorded as PageCancelled.

An SMS page sends the page text. A voice page calls with answering-machine detection, reads
the code (spelled) and risk level and gathers one digit (the telephony adapter renders that
as its provider's markup); the gather action (/twilio/voice/page) and the status callback
carry the notification and dispatch ids.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol, cast, get_args
from urllib.parse import urlencode
from uuid import UUID

import structlog
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from dispatch.clock import Clock
from dispatch.crisis.codes import short_code
from dispatch.crisis.page_text import voice_page_say
from dispatch.events.envelope import Envelope, derived_id, new_event
from dispatch.paging.decide import cancellation
from dispatch.paging.events import PageFailed, PageRequested, PageSent
from dispatch.paging.ledger import LedgerEntry, PageLedger
from dispatch.paging.telephony import ProviderReceipt, Telephony, TelephonyError
from dispatch.vocabulary import RiskLevel

log = structlog.get_logger(__name__)
ACTOR = "notifier"
GATHER_PATH = "/twilio/voice/page"
# Clock skew allowed between our claim time and the provider's date_sent when looking up.
_LOOKUP_SLACK = timedelta(minutes=2)
_CALLBACK_POLL_S = 0.25  # how often an in-doubt page looks for its own status callback


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    first_wait_s: float = 0.5
    max_wait_s: float = 8.0


class Dispatch(Protocol):
    """What the notifier reads of a dispatch before paging: is it still open, its code and
    its risk level (a voice page says both)."""

    @property
    def status(self) -> str: ...

    @property
    def short_code(self) -> str: ...

    @property
    def risk_level(self) -> str: ...


class DispatchLookup(Protocol):
    async def dispatch(self, dispatch_id: UUID) -> Dispatch | None:
        """The dispatch read model row, or None (not projected yet, or not a dispatch)."""
        ...


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
        dispatches: DispatchLookup | None = None,
        callback_wait_s: float = 5.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._telephony = telephony
        self._ledger = ledger
        self._clock = clock
        self._callback_base = status_callback_base.rstrip("/") if status_callback_base else None
        self._validity_s = validity_s
        self._retry = retry or RetryPolicy()
        self._dispatches = dispatches
        self._callback_wait_s = callback_wait_s
        self._sleep = sleep

    async def deliver(self, request: Envelope) -> list[Envelope]:
        """Send one page (or recognise it as already sent) and return the outcome event."""
        page = request.payload
        if not isinstance(page, PageRequested):
            return []
        bound = log.bind(notification_id=str(page.notification_id), channel=page.channel)
        row = await self._dispatch_row(page.dispatch_id)
        cancelled = cancellation(request, row.status if row else None, now=self._clock.now())
        # The ledger is read first only for a page of a closed dispatch (one round trip
        # less for every other page): one already sent or failed is reported as it was.
        existing = await self._ledger.get(page.notification_id) if cancelled else None
        if cancelled is not None and (existing is None or existing.state == "claimed"):
            found = await self._lookup(page, existing) if existing else None
            if found is None:
                bound.info("page_cancelled", dispatch_status=row.status if row else None)
                return [cancelled]
        entry = await self._ledger.claim(
            notification_id=page.notification_id,
            dispatch_id=page.dispatch_id,
            channel=page.channel,
            now=self._clock.now(),
            short_code=short_code(page.dispatch_id),
            staff_id=page.staff_id,
            correlation_id=request.correlation_id,
        )
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
            receipt = await self._send_with_retry(page, entry, row, request.correlation_id)
        except TelephonyError as exc:
            await self._ledger.mark_failed(
                page.notification_id, reason=str(exc), sid=None, now=self._clock.now()
            )
            bound.error("page_failed", reason=str(exc), status_code=exc.status_code)
            return [self._failed(request, str(exc), provider_fault=exc.provider_fault)]
        bound.info("page_sent", provider_sid=receipt.sid, provider_status=receipt.status)
        return await self._record_sent(request, receipt)

    async def rehearse(self, request: Envelope) -> None:
        """What `deliver` reads and writes before a send, for a page never sent: its
        dispatch row and ledger row read, its text and callback URLs written. Nothing is
        claimed or sent (dispatch/worker/rehearsal.py)."""
        page = request.payload
        if not isinstance(page, PageRequested):
            return
        row = await self._dispatch_row(page.dispatch_id)
        cancellation(request, row.status if row else None, now=self._clock.now())
        await self._ledger.get(page.notification_id)
        if page.channel == "voice":
            voice_text(page, row)
            self._gather_url(page)
        self._status_url(page, request.correlation_id)

    async def _dispatch_row(self, dispatch_id: UUID) -> Dispatch | None:
        return await self._dispatches.dispatch(dispatch_id) if self._dispatches else None

    async def _send_with_retry(
        self, page: PageRequested, entry: LedgerEntry, row: Dispatch | None, correlation: UUID
    ) -> ProviderReceipt:
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
                    return await self._send(page, row, correlation)
                except TelephonyError as exc:
                    in_doubt = exc.in_doubt
                    raise
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    async def _send(
        self, page: PageRequested, row: Dispatch | None, correlation: UUID
    ) -> ProviderReceipt:
        if page.channel == "voice":
            return await self._telephony.place_call(
                to=page.to_number,
                say=voice_text(page, row),
                gather_url=self._gather_url(page),
                status_callback=self._status_url(page, correlation),
                detect_machine=True,
            )
        return await self._telephony.send_sms(
            to=page.to_number,
            body=page.body,
            status_callback=self._status_url(page, correlation),
            validity_s=self._validity_s,
        )

    async def _lookup(self, page: PageRequested, entry: LedgerEntry) -> ProviderReceipt | None:
        """This page's own message or call after an in-doubt failure, or None.

        Only what is the page's own counts (docs/decisions/012): a status callback whose URL
        named this notification. A message or call to the same number that another page
        owns is never taken for this one. With no status callbacks configured, the newest
        message or call nobody else owns is taken (the provider keeps no id of ours). An SMS
        nobody owns whose own callback never came (lost while PostgreSQL was down, say) is
        taken after the wait: it is listed by this page's exact body, which names the
        dispatch's code, so it is never another dispatch's (docs/decisions/025)."""
        own = await self._ledger.called_back(page.notification_id)
        if own is not None:
            return own
        since = entry.claimed_at - _LOOKUP_SLACK
        if page.channel == "voice":
            listed = await self._telephony.placed_calls(to=page.to_number, placed_after=since)
        else:
            listed = await self._telephony.sent_sms(
                to=page.to_number, body=page.body, sent_after=since
            )
        deadline = time.monotonic() + self._callback_wait_s
        while True:
            owners = await self._ledger.owners([r.sid for r in listed]) if listed else {}
            mine = [r for r in listed if owners.get(r.sid) == page.notification_id]
            if mine:
                return mine[0]
            unowned = [r for r in listed if r.sid not in owners]
            if not unowned:
                return None  # nothing was taken, or only other pages' messages and calls
            if self._callback_base is None:
                log.warning("page_in_doubt_matched_by_window", provider_sid=unowned[0].sid)
                return unowned[0]
            if time.monotonic() >= deadline:
                if page.channel == "sms":  # listed by its exact body, which names its dispatch
                    log.warning("page_in_doubt_matched_by_body", provider_sid=unowned[0].sid)
                    return unowned[0]
                log.warning("page_in_doubt_unmatched", candidates=[r.sid for r in unowned])
                return None
            await self._sleep(_CALLBACK_POLL_S)

    def _ids(self, page: PageRequested) -> str:
        return urlencode({"n": str(page.notification_id), "d": str(page.dispatch_id)})

    def _status_url(self, page: PageRequested, correlation: UUID) -> str | None:
        """The page's status callback: its page (n), its dispatch (d) and the incident's
        correlation id (c), so a delivery report is recorded without reading anything."""
        if self._callback_base is None:
            return None
        incident = urlencode({"c": str(correlation)})
        return f"{self._callback_base}/twilio/status?{self._ids(page)}&{incident}"

    def _gather_url(self, page: PageRequested) -> str:
        """Where Twilio posts the pressed digit (relative when no public URL is configured)."""
        return f"{self._callback_base or ''}{GATHER_PATH}?{self._ids(page)}"

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


def voice_text(page: PageRequested, row: Dispatch | None) -> str:
    """What a paging call says: the code spelled and the risk level, never client details."""
    if row is not None:
        return voice_page_say(code=row.short_code, risk_level=cast(RiskLevel, row.risk_level))
    # No dispatch row yet: the page text starts "ACT <RISK> <CODE>:".
    words = page.body.split(":", 1)[0].split()
    if len(words) == 3 and words[1].lower() in get_args(RiskLevel):
        return voice_page_say(code=words[2], risk_level=cast(RiskLevel, words[1].lower()))
    return f"{' '.join(words)}. Press 1 to accept. Press 2 to pass to the next person."
