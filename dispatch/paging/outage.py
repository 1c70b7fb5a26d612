"""Telling a team's manager that the phone provider keeps failing a dispatch's pages.

The first page of a dispatch that failed on the provider's side (after the notifier's quick
retries) sends the team's manager one SMS, through the notifier like any page. Its
notification id is derived from the dispatch and the manager, so it is sent once per
dispatch however often pages fail; it is retried and failed over like any page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

from dispatch.crisis.decide import Responder
from dispatch.crisis.page_text import GSM7_SAFE, SMS_SEGMENT
from dispatch.escalation.policy import Target
from dispatch.events import Envelope, derived_id, new_event
from dispatch.paging.events import PageFailed, PageRequested

ACTOR = "paging-failover"


class DispatchNotProjectedError(Exception):
    """The dispatch is not in the read model yet: try again shortly (a transient failure)."""

    transient = True


class DispatchTeam(Protocol):
    @property
    def team_id(self) -> str: ...

    @property
    def short_code(self) -> str: ...


class DispatchTeams(Protocol):
    async def dispatch(self, dispatch_id: UUID) -> DispatchTeam | None: ...


class Managers(Protocol):
    async def targets(
        self, team_id: str, targets: tuple[Target, ...], at: datetime
    ) -> dict[Target, list[Responder]]: ...


def outage_sms(*, code: str) -> str:
    """What the manager is told: the code only, as in every page."""
    text = (
        f"ACT NOTICE {code}: texts and calls to staff are failing at the phone provider "
        "and are being retried. Please make sure someone takes it."
    )
    if len(text) > SMS_SEGMENT or not GSM7_SAFE.issuperset(text):
        raise ValueError(f"notice is not one GSM-7 segment: {text!r}")
    return text


class OutageNotices:
    def __init__(self, dispatches: DispatchTeams, managers: Managers) -> None:
        self._dispatches = dispatches
        self._managers = managers

    async def notices(
        self, request: Envelope, failed: Envelope, *, now: datetime
    ) -> list[Envelope]:
        """The manager notices (PageRequested, SMS) for a page the provider kept failing."""
        page, failure = request.payload, failed.payload
        assert isinstance(page, PageRequested) and isinstance(failure, PageFailed)
        row = await self._dispatches.dispatch(page.dispatch_id)
        if row is None:
            raise DispatchNotProjectedError(f"dispatch {page.dispatch_id} is not projected yet")
        found = await self._managers.targets(row.team_id, ("manager",), now)
        body = outage_sms(code=row.short_code)
        out = []
        for manager in found.get("manager", []):
            notice = PageRequested(
                notification_id=derived_id(page.dispatch_id, "provider-outage", manager.staff_id),
                dispatch_id=page.dispatch_id,
                step=page.step,
                attempt=0,
                channel="sms",
                staff_id=manager.staff_id,
                to_number=manager.phone,
                body=body,
            )
            out.append(
                new_event(
                    notice,
                    key=request.key,
                    event_id=derived_id(notice.notification_id, "requested"),
                    occurred_at=failed.occurred_at,
                    recorded_at=now,
                    actor=ACTOR,
                    cause=failed,
                    correlation_id=request.correlation_id,
                )
            )
        return out
