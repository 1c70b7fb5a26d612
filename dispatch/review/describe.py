"""One line about an archived event, for a timeline a person reads.

Known types get a sentence; any other type (a new area's event, an older one) is shown by
its plain fields, leaving out phone numbers, message bodies and recording links.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from dispatch.review.facts import Archived

P = Mapping[str, Any]
PRIVATE = ("phone", "number", "body", "url")


def _who(staff_id: object) -> str:
    return str(staff_id) if staff_id else "nobody"


def _steps(p: P) -> str:
    policy = p.get("policy") or {}
    steps = [
        f"{'+'.join(s.get('targets', ()))} by {'+'.join(s.get('channels', ()))} "
        f"{s.get('ack_timeout_s')} s"
        for s in policy.get("steps", ())
    ]
    return f"{'; '.join(steps)}; {policy.get('rounds')} round(s)"


def _contact(p: P) -> str:
    extra = [f"{k} {p[k]}" for k in ("where", "minutes") if p.get(k) is not None]
    others = p.get("staff_ids") or p.get("other_staff_ids") or ()
    staff = ", ".join(dict.fromkeys([str(p.get("staff_id")), *map(str, others)]))
    return f"{p.get('kind')} contact by {staff}" + (f" ({', '.join(extra)})" if extra else "")


SENTENCES: dict[str, Callable[[P], str]] = {
    "CrisisCallReceived": lambda p: (
        f"crisis call from {p['caller_kind']} "
        f"{p.get('client_id') or ''}; dialled {_who(p.get('dialled_staff_id'))}"
    ),
    "CrisisTextReceived": lambda p: (
        f"crisis text from {p['caller_kind']} {p.get('client_id') or ''}"
    ),
    "CallerMessageRecorded": lambda p: f"caller left a {p.get('duration_s')} s message",
    "DispatchOpened": lambda p: (
        f"dispatch {p['short_code']} opened ({p['reason']}, risk "
        f"{p['risk_level']}); first paged {_who(p.get('assigned_staff_id'))}"
    ),
    "EscalationPlanFrozen": lambda p: f"policy frozen: {_steps(p)}",
    "EscalationDeadlineReached": lambda p: f"no answer by the deadline of step {p['sequence']}",
    "EscalationRequested": lambda p: f"{p['staff_id']} passed it on ({p['via']})",
    "DispatchEscalated": lambda p: (
        f"escalated ({p['reason']}) to round {p['round']} step "
        f"{p['step']}{' (everyone)' if p.get('exhausted') else ''}: paged "
        f"{', '.join(p.get('staff_ids') or ()) or 'nobody'}"
    ),
    "EscalationTargetUnreachable": lambda p: f"{p['target']} unreachable: {p['reason']}",
    "PageRequested": lambda p: (
        f"{p['channel']} page to {p['staff_id']} (step {p['step']}, attempt {p['attempt']})"
    ),
    "PageRedialScheduled": lambda p: f"voice page to {p['staff_id']} to be dialled again",
    "StaffReplyReceived": lambda p: (
        f"{p['staff_id']} replied {str(p['verb']).upper()} by {p['channel']}"
    ),
    "StaffReplyDecided": lambda p: (
        f"{str(p['verb']).upper()} from {p['staff_id']} "
        + ("accepted" if p.get("accepted") else f"refused: {p.get('reason')}")
    ),
    "DispatchAcknowledged": lambda p: f"acknowledged by {p['staff_id']} ({p['via']})",
    "DispatchResolved": lambda p: f"resolved by {p['staff_id']} ({p['via']}): {p['outcome']}",
    "ContactRecorded": _contact,
    "RelapseSignalObserved": lambda p: (
        f"warning sign {p['sign']}, severity {p['severity']} ({p['source']})"
    ),
    "RiskLevelChanged": lambda p: (
        f"risk {p['from_level']} -> {p['to_level']} (score "
        f"{float(p['score']):.1f}): {'; '.join(p.get('reasons') or ())}"
    ),
    "RelapsePlanRecorded": lambda p: (
        f"relapse plan agreed by {p.get('agreed_by')} "
        f"({len(p.get('warning_signs') or ())} warning signs)"
    ),
    "RelapsePlanRevised": lambda p: (
        f"relapse plan reviewed by {p.get('agreed_by')} "
        f"({len(p.get('warning_signs') or ())} warning signs)"
    ),
    "HospitalAdmissionRecorded": lambda p: f"admitted to hospital {p.get('facility') or ''}",
    "HospitalDischargeRecorded": lambda p: f"discharged from hospital {p.get('facility') or ''}",
    "ClientRecordsViewed": lambda p: f"records read by {p['viewer']} ({p['view']})",
    "ClientEnrolled": lambda p: f"enrolled with {p['team_id']}",
    "CarerRegistered": lambda p: (
        f"carer {p['carer_id']} ({p['relationship']}) registered; "
        f"consents to share: {'yes' if p.get('client_consents_to_share') else 'no'}"
    ),
    "OutreachTaskCreated": lambda p: f"same-day outreach due {p.get('due_by')}",
    "MissedContactAlerted": lambda p: f"no face-to-face contact within {p['target_days']} days",
    "TeamMeetingHeld": lambda p: f"team meeting held on {p['held_on']}",
}


def plain_fields(payload: P) -> str:
    """The payload's plain fields (no lists, objects or private details) as `name=value`."""
    shown = [
        f"{k}={v}"
        for k, v in payload.items()
        if isinstance(v, str | int | float | bool) and not any(w in k for w in PRIVATE)
    ]
    return ", ".join(shown)


def describe(fact: Archived, staff_of_page: Mapping[str, str] | None = None) -> str:
    """A sentence about the event; a page's delivery reports name the person paged."""
    sentence = SENTENCES.get(fact.type)
    if sentence is not None:
        try:
            return sentence(fact.payload)
        except (KeyError, TypeError, ValueError):  # an older shape: fall back to the fields
            return plain_fields(fact.payload)
    notification = str(fact.payload.get("notification_id", ""))
    if staff_of_page and notification in staff_of_page:
        outcome = {
            "PageSent": "sent",
            "PageDelivered": "delivered",
            "PageFailed": "failed",
            "PageCancelled": "cancelled, dispatch",
        }
        what = outcome.get(fact.type, fact.type)
        reason = f" {fact.payload['reason']}" if fact.payload.get("reason") else ""
        return f"page to {staff_of_page[notification]} {what}{reason}"
    return plain_fields(fact.payload)
