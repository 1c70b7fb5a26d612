"""The replay's in-memory folds of dispatches and pages (projections.replay_fold).

The rules of projections.dispatches, escalation and paging: a dispatch's status only moves
open < acknowledged < resolved, the earliest acknowledgement and resolution win, escalation
only moves to a higher sequence and only on a dispatch already there; a page's status only
moves forward (requested < sent = cancelled < failed < delivered), its first channel,
provider id and failure reason stay, its request fills the fields once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dispatch.crisis.events import DispatchAcknowledged, DispatchOpened, DispatchResolved
from dispatch.escalation.events import DispatchEscalated
from dispatch.events import EventPayload
from dispatch.paging.events import PageCancelled, PageDelivered, PageFailed, PageRequested, PageSent
from projections.replay_tables import DISPATCH, PAGE, Row, Table

PAGE_RANK = {"requested": 0, "sent": 1, "cancelled": 1, "failed": 2, "delivered": 3}


class CrisisFolds:
    """The dispatches and pages tables of one replay, and the folds of their events."""

    def __init__(self) -> None:
        self.dispatches = Table("dispatches", DISPATCH, entity=True)
        self.pages = Table("pages", PAGE, entity=True)
        self.tables = (self.dispatches, self.pages)
        self.handlers: dict[type[EventPayload], Callable[[Row, Any], None]] = {
            DispatchOpened: self._opened,
            DispatchAcknowledged: self._acknowledged,
            DispatchResolved: self._resolved,
            DispatchEscalated: self._escalated,
            PageRequested: self._page_requested,
            PageSent: self._page_sent,
            PageDelivered: self._page_delivered,
            PageFailed: self._page_failed,
            PageCancelled: self._page_cancelled,
        }

    # --- dispatches (projections.dispatches, projections.escalation) -------------------------
    def _opened(self, e: Row, p: DispatchOpened) -> None:
        t, key = self.dispatches, p.dispatch_id
        opening = dict(
            short_code=p.short_code,
            team_id=p.team_id,
            client_id=p.client_id,
            caller_kind=p.caller_kind,
            reason=p.reason,
            risk_level=p.risk_level,
            assigned_staff_id=p.assigned_staff_id,
            opened_at=e["occurred_at"],
            correlation_id=e["correlation_id"],
            source_event_id=p.source_event_id,
        )
        row = t.get(key)
        if row is None:
            t.insert(
                key,
                dispatch_id=key,
                status="open",
                escalation_sequence=0,
                exhausted=False,
                **opening,
            )
        elif row[t.col("opened_at")] is None:
            for name, value in opening.items():
                row[t.col(name)] = value
            t.touch(key)

    def _acknowledged(self, e: Row, p: DispatchAcknowledged) -> None:
        t, key = self.dispatches, p.dispatch_id
        row = t.get(key)
        if row is None:
            t.insert(
                key,
                dispatch_id=key,
                status="acknowledged",
                acknowledged_at=e["occurred_at"],
                acknowledged_by=p.staff_id,
                correlation_id=e["correlation_id"],
                escalation_sequence=0,
                exhausted=False,
            )
            return
        at = row[t.col("acknowledged_at")]
        if at is None or at > e["occurred_at"]:
            if row[t.col("status")] == "open":
                row[t.col("status")] = "acknowledged"
            row[t.col("acknowledged_at")] = e["occurred_at"]
            row[t.col("acknowledged_by")] = p.staff_id
            t.touch(key)

    def _resolved(self, e: Row, p: DispatchResolved) -> None:
        t, key = self.dispatches, p.dispatch_id
        row = t.get(key)
        if row is None:
            t.insert(
                key,
                dispatch_id=key,
                status="resolved",
                resolved_at=e["occurred_at"],
                resolved_by=p.staff_id,
                outcome=p.outcome,
                correlation_id=e["correlation_id"],
                escalation_sequence=0,
                exhausted=False,
            )
            return
        at = row[t.col("resolved_at")]
        if at is None or at > e["occurred_at"]:
            row[t.col("status")] = "resolved"
            row[t.col("resolved_at")] = e["occurred_at"]
            row[t.col("resolved_by")] = p.staff_id
            row[t.col("outcome")] = p.outcome
            t.touch(key)

    def _escalated(self, e: Row, p: DispatchEscalated) -> None:
        t, key = self.dispatches, p.dispatch_id
        row = t.get(key)
        if row is not None and row[t.col("escalation_sequence")] < p.sequence:
            row[t.col("escalation_sequence")] = p.sequence
            row[t.col("escalated_at")] = e["occurred_at"]
            row[t.col("exhausted")] = p.exhausted
            t.touch(key)

    # --- pages (projections.paging) -------------------------------------------------------
    def _page_requested(self, e: Row, p: PageRequested) -> None:
        t, key = self.pages, p.notification_id
        row = t.get(key)
        if row is None:
            t.insert(
                key,
                notification_id=key,
                dispatch_id=p.dispatch_id,
                step=p.step,
                attempt=p.attempt,
                channel=p.channel,
                staff_id=p.staff_id,
                requested_at=e["occurred_at"],
                status="requested",
                updated_at=e["occurred_at"],
            )
        elif row[t.col("requested_at")] is None:
            row[2:7] = [p.step, p.attempt, p.channel, p.staff_id, e["occurred_at"]]
            t.touch(key)

    def _page_status(self, e: Row, p: Any, status: str, channel: str | None,
                     provider_sid: str | None, failure: str | None) -> None:  # fmt: skip
        t, key = self.pages, p.notification_id
        row = t.get(key)
        if row is None:
            t.insert(
                key,
                notification_id=key,
                dispatch_id=p.dispatch_id,
                channel=channel,
                status=status,
                provider_sid=provider_sid,
                failure_reason=failure,
                updated_at=e["occurred_at"],
            )
        elif PAGE_RANK[status] > PAGE_RANK[row[7]]:
            if row[4] is None:
                row[4] = channel
            if row[8] is None:
                row[8] = provider_sid
            if row[9] is None:
                row[9] = failure
            row[7], row[10] = status, e["occurred_at"]
            t.touch(key)

    def _page_sent(self, e: Row, p: PageSent) -> None:
        self._page_status(e, p, "sent", p.channel, p.provider_sid, None)

    def _page_delivered(self, e: Row, p: PageDelivered) -> None:
        self._page_status(e, p, "delivered", None, p.provider_sid, None)

    def _page_failed(self, e: Row, p: PageFailed) -> None:
        self._page_status(e, p, "failed", p.channel, p.provider_sid, p.reason)

    def _page_cancelled(self, e: Row, p: PageCancelled) -> None:
        failure = f"cancelled: dispatch {p.reason}"
        self._page_status(e, p, "cancelled", p.channel, None, failure)
