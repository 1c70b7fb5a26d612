"""The live board as a person reads it: one row per open dispatch, built from the read
models' rows (pure: the data and the instant are passed in; times in the team's zone)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from dispatch.escalation.policy import Target
from dispatch.escalation.state import EscalationState, next_position
from projections.console_board import BoardData
from projections.models import Dispatch, Page

REASONS = {"crisis_call": "Crisis call", "crisis_text": "Crisis text", "risk_high": "Risk rising"}
CALLERS = {"client": "client", "carer": "carer", "unknown": "unknown caller"}
TARGETS: dict[Target, str] = {
    "primary": "primary",
    "backup": "backup",
    "team_lead": "team lead",
    "whole_team": "whole team",
    "manager": "manager",
}
PAGE_STATES = {
    "requested": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "failed": "failed",
    "cancelled": "cancelled",
}
RISK_ORDER = {"crisis": 0, "high": 1, "elevated": 2, "stable": 3}


@dataclass(frozen=True)
class PageLine:
    who: str
    channel: str  # "SMS" | "voice"
    at: str  # HH:MM in the team's zone
    at_iso: str
    state: str  # requested | sent | delivered | failed | cancelled
    state_label: str
    failure: str | None


@dataclass(frozen=True)
class EscalationLine:
    """Where the dispatch is in its escalation plan and what happens next, when."""

    step: str  # "step 2 of 4: backup, round 1 of 2"
    next_step: str | None  # "team lead"
    deadline_iso: str | None  # when the next step is paged (None: stopped or unknown)
    remaining: str  # "4:05" until then, "now" when due ("" without a deadline)
    overdue: bool


@dataclass(frozen=True)
class BoardRow:
    dispatch_id: uuid.UUID
    code: str
    client_id: str | None
    reason: str
    caller: str
    risk: str
    status: str  # open | acknowledged
    opened_at: str
    opened_iso: str
    taken_by: str | None
    taken_at: str | None
    pages: tuple[PageLine, ...]
    escalation: EscalationLine | None


def _targets(targets: Sequence[Target]) -> str:
    return " + ".join(TARGETS[t] for t in targets)


def escalation_line(state: EscalationState | None, now: datetime) -> EscalationLine | None:
    """The step and the time to the next one (None: no plan frozen yet)."""
    if state is None or state.policy is None:
        return None
    policy = state.policy
    if state.exhausted:
        step = f"everyone ({_targets(state.current_step().targets)}), repeating"
        following: str | None = "everyone again"
    else:
        step = (
            f"step {state.step + 1} of {len(policy.steps)}: "
            f"{_targets(state.current_step().targets)}, round {state.round + 1} of {policy.rounds}"
        )
        _, nxt, exhausted = next_position(state)
        following = "everyone" if exhausted else _targets(policy.steps[nxt].targets)
    waiting = state.status == "open" and state.deadline_at is not None
    deadline = state.deadline_at if waiting else None
    return EscalationLine(
        step=step,
        next_step=following if waiting else None,
        deadline_iso=deadline.isoformat() if deadline else None,
        remaining=remaining(deadline, now) if deadline else "",
        overdue=deadline is not None and deadline <= now,
    )


def remaining(deadline: datetime, now: datetime) -> str:
    """Minutes and seconds until `deadline` ("4:05"), "now" once it has passed."""
    left = int((deadline - now).total_seconds())
    return "now" if left <= 0 else f"{left // 60}:{left % 60:02d}"


def _page_line(page: Page, names: Mapping[str, str], zone: ZoneInfo) -> PageLine:
    return PageLine(
        who=names.get(page.staff_id, page.staff_id),
        channel="SMS" if page.channel == "sms" else page.channel,
        at=f"{page.requested_at.astimezone(zone):%H:%M}",
        at_iso=page.requested_at.isoformat(),
        state=page.status,
        state_label=PAGE_STATES.get(page.status, page.status),
        failure=page.failure_reason if page.status == "failed" else None,
    )


def board_row(
    d: Dispatch,
    pages: Sequence[Page],
    state: EscalationState | None,
    names: Mapping[str, str],
    zone: ZoneInfo,
    now: datetime,
) -> BoardRow:
    taken = d.status == "acknowledged" and d.acknowledged_by is not None
    return BoardRow(
        dispatch_id=d.dispatch_id,
        code=d.short_code,
        client_id=d.client_id,
        reason=REASONS.get(d.reason, d.reason),
        caller=CALLERS.get(d.caller_kind, d.caller_kind),
        risk=d.risk_level,
        status=d.status,
        opened_at=f"{d.opened_at.astimezone(zone):%H:%M}",
        opened_iso=d.opened_at.isoformat(),
        taken_by=names.get(d.acknowledged_by or "", d.acknowledged_by) if taken else None,
        taken_at=f"{d.acknowledged_at.astimezone(zone):%H:%M}"
        if taken and d.acknowledged_at
        else None,
        pages=tuple(_page_line(p, names, zone) for p in pages),
        escalation=escalation_line(state, now),
    )


def board_rows(data: BoardData, now: datetime) -> list[BoardRow]:
    """Open dispatches nobody has taken first, the highest risk first, then the oldest."""
    zone = ZoneInfo(data.team.time_zone if data.team else "UTC")
    ordered = sorted(
        data.dispatches,
        key=lambda d: (d.status != "open", RISK_ORDER.get(d.risk_level, 9), d.opened_at),
    )
    return [
        board_row(d, data.pages.get(d.dispatch_id, ()), data.escalation.get(d.dispatch_id),
                  data.names, zone, now)
        for d in ordered
    ]  # fmt: skip


def shown_clients(rows: Sequence[BoardRow]) -> set[str]:
    """The clients whose dispatches the rows show (what a view of them reads)."""
    return {r.client_id for r in rows if r.client_id}
