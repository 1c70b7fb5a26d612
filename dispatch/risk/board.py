"""The huddle board as text: one block per client, highest risk first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from dispatch.clients.notices import BoardNotice
from dispatch.risk.ports import HuddleRow


def ago(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "never"
    hours = (now - at).total_seconds() / 3600
    return f"{hours:.0f} h ago" if hours < 48 else f"{hours / 24:.0f} days ago"


def flag_list(r: HuddleRow, now: datetime) -> list[str]:
    """What needs doing about one client, as the board's bracketed flags (and the page's)."""
    flags: list[str] = []
    if r.open_dispatches:
        flags.append("open dispatch " + ", ".join(r.open_dispatches))
    if r.outreach_due:
        flags.append("outreach due " + ", ".join(r.outreach_due))
    if r.follow_up_due is not None:
        late = "FOLLOW-UP OVERDUE" if r.follow_up_due < now else "follow-up"
        flags.append(f"{late} due by {r.follow_up_due:%Y-%m-%d %H:%M}Z")
    if r.transfer:
        flags.append(f"transfer {r.transfer} pending")
    if r.missed_contact_since is not None:
        flags.append(f"NO FACE-TO-FACE since {r.missed_contact_since:%Y-%m-%d}")
    if r.plan_review_overdue:
        flags.append("PLAN REVIEW OVERDUE")
    elif r.plan_review_due is None:
        flags.append("no relapse plan")
    if r.care_plan_review_overdue:
        flags.append("CARE PLAN REVIEW OVERDUE")
    elif r.care_plan_review_due is None:
        flags.append("no care plan")
    return flags


def render_board(
    team_id: str, rows: list[HuddleRow], now: datetime, notices: Sequence[BoardNotice] = ()
) -> str:
    count = f"{len(rows)} client" + ("" if len(rows) == 1 else "s")
    lines = [f"Huddle board {team_id} at {now:%Y-%m-%d %H:%M}Z ({count})"]
    for r in rows:
        flags = flag_list(r, now)
        lines.append(
            f"{r.level.upper():<9} {r.client_id:<8} {r.display_name:<12} score {r.score:5.1f}  "
            f"last face-to-face {ago(r.last_face_to_face_at, now)}"
            + (f" (target {r.contact_target_days:g} d)" if r.contact_target_days else "")
            + (f"  [{'; '.join(flags)}]" if flags else "")
        )
        lines += [f"    why: {reason}" for reason in r.reasons]
        lines += [f"    24h: {change}" for change in r.changes_24h]
    lines += [f"TEAM      {n.text}" for n in notices]  # rota gaps, consents, carers
    return "\n".join(lines)
