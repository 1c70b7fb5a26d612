"""Reply confirmations: the SMS that tells a staff member what their SMS reply did.

Sent from the worker when the dispatch's agent has decided the reply (StaffReplyDecided),
at most once per decision: the page ledger is claimed with an id derived from the decision
before the provider is called, so a redelivered decision is not confirmed twice.
"""

from __future__ import annotations

from typing import Protocol

import structlog
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from dispatch.clock import Clock
from dispatch.events import Envelope, derived_id
from dispatch.paging.ledger import PageLedger
from dispatch.paging.telephony import Telephony, TelephonyError
from dispatch.replies.decide import confirmation_sms
from dispatch.replies.events import StaffReplyDecided

log = structlog.get_logger(__name__)
ATTEMPTS = 4


class StaffNames(Protocol):
    async def display_name(self, staff_id: str) -> str | None:
        """A staff member's name as colleagues know it, or None."""
        ...


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, TelephonyError) and exc.retry_safe


class ReplyConfirmations:
    def __init__(
        self,
        *,
        telephony: Telephony,
        ledger: PageLedger,
        clock: Clock,
        names: StaffNames,
        validity_s: int,
    ) -> None:
        self._telephony = telephony
        self._ledger = ledger
        self._clock = clock
        self._names = names
        self._validity_s = validity_s

    async def confirm(self, event: Envelope) -> None:
        """Text the replier the decision (SMS replies only; voice and API answer in line)."""
        decided = event.payload
        if not isinstance(decided, StaffReplyDecided) or decided.reply_to is None:
            return
        notification_id = derived_id(event.event_id, "confirmation")
        entry = await self._ledger.claim(
            notification_id=notification_id,
            dispatch_id=decided.dispatch_id,
            channel="sms",
            now=self._clock.now(),
        )
        bound = log.bind(notification_id=str(notification_id), staff_id=decided.staff_id)
        if entry.state != "claimed" or entry.in_doubt:
            # Sent already, or a worker died mid-send: a second text would repeat, not inform.
            bound.info("reply_confirmation_already_handled", state=entry.state)
            return
        holder = None
        if decided.holder and decided.holder != decided.staff_id:
            holder = await self._names.display_name(decided.holder)
        body = confirmation_sms(decided, holder)
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception(_retryable),
                stop=stop_after_attempt(ATTEMPTS),
                wait=wait_exponential(multiplier=0.5, max=4.0),
                reraise=True,
            ):
                with attempt:
                    receipt = await self._telephony.send_sms(
                        to=decided.reply_to, body=body, status_callback=None,
                        validity_s=self._validity_s,
                    )  # fmt: skip
        except TelephonyError as exc:
            await self._ledger.mark_failed(
                notification_id, reason=str(exc), sid=None, now=self._clock.now()
            )
            bound.error("reply_confirmation_failed", reason=str(exc), accepted=decided.accepted)
            return
        await self._ledger.mark_sent(
            notification_id, sid=receipt.sid, status=receipt.status, now=self._clock.now()
        )
        bound.info("reply_confirmation_sent", accepted=decided.accepted, verb=decided.verb)
