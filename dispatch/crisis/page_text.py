"""What a page says: a short code and the risk level, never a name, diagnosis or number."""

from __future__ import annotations

from dispatch.events.catalogue import CallerKind, RiskLevel

_REASONS = {"crisis_call": "crisis call", "crisis_text": "crisis text", "risk_high": "risk rising"}
_CALLERS = {"client": "client", "carer": "carer", "unknown": "unknown caller"}


def page_sms(*, code: str, risk_level: RiskLevel, reason: str, caller_kind: CallerKind) -> str:
    """One GSM-7 segment (<= 160 chars) so it is never split or reordered by the carrier."""
    text = (
        f"ACT {risk_level.upper()} {code}: {_REASONS.get(reason, reason)} "
        f"({_CALLERS[caller_kind]}). Reply ACK {code} to take it, DONE {code} <outcome> to close."
    )
    assert len(text) <= 160, text
    return text


def voice_page_say(*, code: str, risk_level: RiskLevel) -> str:
    spelled = ", ".join(code)
    return (
        f"Crisis dispatch. Risk level {risk_level}. Code {spelled}. "
        "Press 1 to accept. Press 2 to pass to the next person."
    )
