"""Team-level lines of the huddle board that are not about one client's risk: consents
past their review date, carers' assessments due, gaps in the rota. Plain values, so the
board's text and its JSON say the same."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

NoticeKind = Literal["consent_review_overdue", "carer_assessment_due", "coverage_gap"]
ASSESSMENT_WARNING = timedelta(days=14)
"""A carer's assessment shows as due this long before its review date."""


@dataclass(frozen=True)
class BoardNotice:
    """One line for the team: what it is about (`subject`: client/carer or staff) and why."""

    kind: NoticeKind
    subject: str
    text: str


def consent_review_notice(
    client_id: str, carer_id: str, review_by: date, today: date
) -> BoardNotice | None:
    """A consent in force past its review date (still honoured until revoked)."""
    if review_by >= today:
        return None
    return BoardNotice(
        "consent_review_overdue",
        f"{client_id}/{carer_id}",
        f"CONSENT REVIEW OVERDUE {client_id} with carer {carer_id}: due {review_by.isoformat()}",
    )


def assessment_notice(
    client_id: str, carer_id: str, review_by: date, today: date
) -> BoardNotice | None:
    """A carer's assessment whose review is due within ASSESSMENT_WARNING, or overdue."""
    if review_by > today + ASSESSMENT_WARNING:
        return None
    state = "OVERDUE" if review_by < today else "due"
    return BoardNotice(
        "carer_assessment_due",
        f"{client_id}/{carer_id}",
        f"CARER ASSESSMENT {state} {carer_id} (carer of {client_id}): "
        f"review by {review_by.isoformat()}",
    )
