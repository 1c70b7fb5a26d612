"""What a provider's delivery report means for a page: PageDelivered, PageFailed or nothing.

The telephony adapter sorts its provider's statuses into a DeliveryReport; `page_outcome`
(pure) turns one into the page event and its dedup key. Only pressing 1 on a voice page
acknowledges it: a person answering is PageDelivered, a machine answering is PageFailed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from dispatch.paging.events import PageDelivered, PageFailed

Progress = Literal["delivered", "answered", "machine", "failed", "pending"]
Outcome = tuple[PageDelivered | PageFailed, str]  # the event and its dedup key
MACHINE = "answered-by-machine"


@dataclass(frozen=True)
class DeliveryReport:
    """One progress report of a page, in the core's words.

    delivered: an SMS reached the phone; answered: a person (or no detection) picked up a
    call; machine: voicemail or a fax picked up; failed: not delivered, no answer, busy;
    pending: not an outcome yet (queued, ringing, ...).
    """

    channel: Literal["sms", "voice"]
    provider_sid: str
    provider_status: str  # the provider's own word, kept in the record
    progress: Progress
    detail: str = ""  # the provider's error code, or which kind of machine answered


def page_outcome(
    report: DeliveryReport, notification_id: UUID, dispatch_id: UUID
) -> Outcome | None:
    """The page event a report records and its dedup key, or None when nothing happened.

    A machine is one key whichever callback reports it, so it is recorded once."""
    match report.progress:
        case "delivered" | "answered":
            status = "answered" if report.progress == "answered" else report.provider_status
            delivered = PageDelivered(
                notification_id=notification_id,
                dispatch_id=dispatch_id,
                provider_sid=report.provider_sid,
                provider_status=status,
            )
            return delivered, status
        case "machine":
            reason, key = f"{MACHINE} {report.detail}", MACHINE
        case "failed":
            reason, key = (
                f"{report.provider_status} {report.detail}".strip(),
                report.provider_status,
            )
        case "pending":
            return None
    failed = PageFailed(
        notification_id=notification_id,
        dispatch_id=dispatch_id,
        channel=report.channel,
        reason=reason,
        provider_fault=False,
        provider_sid=report.provider_sid,
    )
    return failed, key
