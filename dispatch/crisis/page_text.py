"""What a page says: a short code and the risk level, never a name, diagnosis or number."""

from __future__ import annotations

import string

from dispatch.vocabulary import CallerKind, RiskLevel

_REASONS = {"crisis_call": "crisis call", "crisis_text": "crisis text", "risk_high": "risk rising"}
_CALLERS = {"client": "client", "carer": "carer", "unknown": "unknown caller"}
# Characters of the GSM-7 basic set that take one septet each (no escapes, no UCS-2).
GSM7_SAFE = frozenset(string.ascii_letters + string.digits + " .,:;()<>-'!?/+*&%#\"=@")
SMS_SEGMENT = 160


def page_sms(
    *,
    code: str,
    risk_level: RiskLevel,
    reason: str,
    caller_kind: CallerKind,
    note: str | None = None,
) -> str:
    """One GSM-7 segment (<= 160 chars) so it is never split or reordered by the carrier.

    `note` is a short, non-identifying remark such as "pref F worker unmet".
    """
    remark = f", {note}" if note else ""
    text = (
        f"ACT {risk_level.upper()} {code}: {_REASONS.get(reason, reason)} "
        f"({_CALLERS[caller_kind]}){remark}. "
        f"Reply ACK {code} to take it, DONE {code} <outcome> to close."
    )
    if len(text) > SMS_SEGMENT or not GSM7_SAFE.issuperset(text):
        raise ValueError(f"page is not one GSM-7 segment: {text!r}")
    return text


def notice_sms(*, code: str, missing: str) -> str:
    """To a manager: an escalation step named someone the rota does not have."""
    text = (
        f"ACT NOTICE {code}: escalation found no {missing} on the rota; "
        "the step was paged without them. Please check cover."
    )
    if len(text) > SMS_SEGMENT or not GSM7_SAFE.issuperset(text):
        raise ValueError(f"notice is not one GSM-7 segment: {text!r}")
    return text


def voice_page_say(*, code: str, risk_level: RiskLevel) -> str:
    spelled = ", ".join(code)
    return (
        f"Crisis dispatch. Risk level {risk_level}. Code {spelled}. "
        "Press 1 to accept. Press 2 to pass to the next person."
    )
