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
    # Rows are lists in the order of DISPATCH and PAGE (projections.replay_tables):
    # dispatch: 0 dispatch_id, 1-7 short_code .. assigned_staff_id, 8 status, 9 opened_at,
    # 10 acknowledged_at, 11 acknowledged_by, 12 resolved_at, 13 resolved_by, 14 outcome,
    # 15 correlation_id, 16 source_event_id, 17 escalation_sequence, 18 escalated_at,
    # 19 exhausted; page: 0 notification_id, 1 dispatch_id, 2 step, 3 attempt, 4 channel,
    # 5 staff_id, 6 requested_at, 7 status, 8 provider_sid, 9 failure_reason, 10 updated_at.
    def _opened(self, e: Row, p: DispatchOpened) -> None:
        t, key = self.dispatches, p.dispatch_id
        row = t.rows.get(key)
        if row is None:
            t.add(key, [key, p.short_code, p.team_id, p.client_id, p.caller_kind, p.reason,
                        p.risk_level, p.assigned_staff_id, "open", e["occurred_at"], None, None,
                        None, None, None, e["correlation_id"], p.source_event_id, 0, None,
                        False])  # fmt: skip
        elif row[9] is None:
            row[1:8] = [p.short_code, p.team_id, p.client_id, p.caller_kind, p.reason,
                        p.risk_level, p.assigned_staff_id]  # fmt: skip
            row[9] = e["occurred_at"]
            row[15:17] = [e["correlation_id"], p.source_event_id]
            t.touch(key)

    def _acknowledged(self, e: Row, p: DispatchAcknowledged) -> None:
        t, key, occurred_at = self.dispatches, p.dispatch_id, e["occurred_at"]
        row = t.rows.get(key)
        if row is None:
            t.add(key, [key, None, None, None, None, None, None, None, "acknowledged", None,
                        occurred_at, p.staff_id, None, None, None, e["correlation_id"], None, 0,
                        None, False])  # fmt: skip
            return
        at = row[10]
        if at is None or at > occurred_at:
            if row[8] == "open":
                row[8] = "acknowledged"
            row[10], row[11] = occurred_at, p.staff_id
            t.touch(key)

    def _resolved(self, e: Row, p: DispatchResolved) -> None:
        t, key, occurred_at = self.dispatches, p.dispatch_id, e["occurred_at"]
        row = t.rows.get(key)
        if row is None:
            t.add(key, [key, None, None, None, None, None, None, None, "resolved", None, None,
                        None, occurred_at, p.staff_id, p.outcome, e["correlation_id"], None, 0,
                        None, False])  # fmt: skip
            return
        at = row[12]
        if at is None or at > occurred_at:
            row[8] = "resolved"
            row[12:15] = [occurred_at, p.staff_id, p.outcome]
            t.touch(key)

    def _escalated(self, e: Row, p: DispatchEscalated) -> None:
        t, key = self.dispatches, p.dispatch_id
        row = t.rows.get(key)
        if row is not None and row[17] < p.sequence:
            row[17:20] = [p.sequence, e["occurred_at"], p.exhausted]
            t.touch(key)

    # --- pages (projections.paging) -------------------------------------------------------
    def _page_requested(self, e: Row, p: PageRequested) -> None:
        t, key, occurred_at = self.pages, p.notification_id, e["occurred_at"]
        row = t.rows.get(key)
        if row is None:
            t.add(key, [key, p.dispatch_id, p.step, p.attempt, p.channel, p.staff_id,
                        occurred_at, "requested", None, None, occurred_at])  # fmt: skip
        elif row[6] is None:
            row[2:7] = [p.step, p.attempt, p.channel, p.staff_id, occurred_at]
            t.touch(key)

    def _page_status(self, e: Row, p: Any, status: str, channel: str | None,
                     provider_sid: str | None, failure: str | None) -> None:  # fmt: skip
        t, key = self.pages, p.notification_id
        row = t.rows.get(key)
        if row is None:
            t.add(key, [key, p.dispatch_id, None, None, channel, None, None, status,
                        provider_sid, failure, e["occurred_at"]])  # fmt: skip
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
