"""The replay's in-memory folds of its busiest read models, written with COPY per batch.

A replay is the only writer of its shadow tables, so the rows of these tables can be folded
in memory, event after event, by the same rules as their SQL handlers (projections.paging,
dispatches, escalation, replies, risk: statuses only move forward, the first channel and
provider id stay, the earliest acknowledgement and resolution win, the newest risk change
wins, history rows once per event), and written once per batch: rows new to the table with
COPY, changed ones with COPY into a temporary table and one UPDATE. The equality of replay
and live (tests/integration/test_replay_equals_live.py) holds these rules to the handlers'.
The rows of entity tables (dispatches, pages, follow-ups, client risk) stay in memory for
the replay's length, one list per row; history rows are written and forgotten. Dispatches
and pages are folded in projections.replay_fold_crisis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg

from dispatch.clients.events import ContactRecorded
from dispatch.events import Envelope, EventPayload
from dispatch.replies.events import StaffReplyDecided
from dispatch.risk.events import (
    FollowUpClosed,
    FollowUpOpened,
    RelapseSignalObserved,
    RiskLevelChanged,
)
from projections.replay_fold_crisis import CrisisFolds
from projections.replay_tables import (
    CLIENT_RISK,
    CONTACT,
    FOLLOW_UP,
    REPLY,
    RISK_CHANGE,
    SIGNAL,
    Row,
    Table,
    Written,
    tuples,
    update,
)


class Folds:
    """The folds of one replay; `apply` takes the events it owns, `flush` writes a batch."""

    def __init__(self) -> None:
        crisis = self._crisis = CrisisFolds()
        self.follow_ups = Table("follow_ups", FOLLOW_UP, entity=True)
        self.client_risk = Table("client_risk", CLIENT_RISK, entity=True)
        self.replies = Table("staff_replies", REPLY, entity=True)
        self.risk_changes = Table("risk_changes", RISK_CHANGE, entity=False)
        self.signals = Table("relapse_signals", SIGNAL, entity=False)
        self.contacts = Table("client_contacts", CONTACT, entity=False)
        self.tables = (*crisis.tables, self.follow_ups, self.client_risk, self.replies,
                       self.risk_changes, self.signals, self.contacts)  # fmt: skip
        self.handlers: dict[type[EventPayload], Callable[[Row, Any], None]] = {
            **crisis.handlers,
            FollowUpOpened: self._follow_up_opened,
            FollowUpClosed: self._follow_up_closed,
            RiskLevelChanged: self._risk_changed,
            RelapseSignalObserved: self._signal,
            ContactRecorded: self._contact,
            StaffReplyDecided: self._reply,
        }

        self.by_type = {cls.event_type: h for cls, h in self.handlers.items()}

    def release(self) -> None:
        """Let every folded row go now. The handlers are bound methods of the folds, a
        reference cycle: without this, dropping the folds leaves their rows (hundreds of
        thousands of objects in a long replay) to the cycle collector, one walk of them all
        (0.5-0.6 s after 300,000 events, inside the replay's time)."""
        for t in self.tables:
            t.clear()
        for handlers in (self.handlers, self._crisis.handlers, self.by_type):
            handlers.clear()

    def owns(self, payload_type: type[EventPayload]) -> bool:
        return payload_type in self.handlers

    def apply(self, event: Envelope) -> None:
        self.handlers[type(event.payload)](event.__dict__, event.payload)

    # --- risk: follow-ups, levels, history (projections.risk) ------------------------------
    # Rows are lists in the order of their table's columns (projections.replay_tables).
    def _follow_up_opened(self, e: Row, p: FollowUpOpened) -> None:
        t, key = self.follow_ups, p.follow_up_id
        if key not in t.rows:
            t.add(key, [key, p.client_id, p.team_id, p.dispatch_id, p.reason,
                        e["occurred_at"], p.due_at, None, None, None])  # fmt: skip

    def _follow_up_closed(self, e: Row, p: FollowUpClosed) -> None:
        t, key = self.follow_ups, p.follow_up_id
        row = t.rows.get(key)
        if row is not None and row[7] is None:
            row[7:10] = [e["occurred_at"], p.closed_by, e["event_id"]]
            t.touch(key)

    def _risk_changed(self, e: Row, p: RiskLevelChanged) -> None:
        at, event_id = e["occurred_at"], e["event_id"]
        self.risk_changes.add(event_id, [event_id, p.client_id, p.team_id, p.from_level,
                                         p.to_level, p.score, list(p.reasons), at])  # fmt: skip
        t, key = self.client_risk, p.client_id
        row = t.rows.get(key)
        values = [key, p.team_id, p.to_level, p.score, list(p.reasons), at, event_id]
        if row is None:
            t.add(key, values)
        elif (row[5], row[6]) < (at, event_id):
            row[:] = values
            t.touch(key)

    def _signal(self, e: Row, p: RelapseSignalObserved) -> None:
        event_id = e["event_id"]
        self.signals.add(event_id, [event_id, p.client_id, p.source, p.sign, p.severity,
                                    e["actor"], e["occurred_at"]])  # fmt: skip

    def _contact(self, e: Row, p: ContactRecorded) -> None:
        event_id = e["event_id"]
        self.contacts.add(event_id, [event_id, p.client_id, p.staff_id, p.kind,
                                     e["occurred_at"], list(p.staff_ids), p.where, p.minutes,
                                     p.team_id])  # fmt: skip

    def _reply(self, e: Row, p: StaffReplyDecided) -> None:
        t, key = self.replies, p.reply_event_id
        if key not in t.written and key not in t.new:
            t.new[key] = [key, p.dispatch_id, p.short_code, p.channel, p.verb, p.staff_id,
                          p.accepted, p.reason, p.holder, p.dispatch_status,
                          e["recorded_at"]]  # fmt: skip

    # --- writing ----------------------------------------------------------------------------
    def take(self) -> list[Written]:
        """The batch's new and changed rows as they are now, to be written by `write`;
        the folds may go on with the next batch meanwhile."""
        out: list[Written] = []
        for t in self.tables:
            new = tuples(t.new.values())
            changed = tuples(t.rows[k] for k in t.changed)
            if t.entity:
                t.written.update(t.new)
            t.new, t.changed = {}, set()
            if new or changed:
                out.append((t, new, changed))
        return out


async def write(conn: asyncpg.Connection, schema: str, taken: list[Written]) -> None:
    """Write what `Folds.take` took (inside the caller's transaction)."""
    for t, new, changed in taken:
        if new:
            await conn.copy_records_to_table(
                t.name, records=new, columns=t.columns, schema_name=schema
            )
        if changed:
            await update(conn, schema, t, changed)
