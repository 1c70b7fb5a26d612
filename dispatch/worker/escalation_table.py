"""The escalation table's values: compact JSON bytes of EscalationState (decision 030).

Fields at their defaults are left out, and so are a remembered reply decision's fields that
repeat the dispatch's own (its id and code; its outcome, holder and status when they are
the dispatch's latest): they come back on load. A reply field that differs from the
dispatch's is always written, even at its default, so the round trip is exact and a
restored table decides exactly what the old one would have. A value written before
decision 030 (a JSON dict, in memory or on the changelog) is read as well.
"""

from __future__ import annotations

from typing import Any

import orjson

from dispatch.escalation.state import EscalationState

# A reply decision's field -> the dispatch's field it usually repeats.
_REPEATS = {
    "dispatch_id": "dispatch_id",
    "short_code": "short_code",
    "outcome": "outcome",
    "holder": "acknowledged_by",
    "dispatch_status": "status",
}
_DEFAULTS = {name: EscalationState.model_fields[name].default for name in _REPEATS.values()}


def dump(state: EscalationState) -> bytes:
    value = state.model_dump(mode="json", exclude_defaults=True)
    if state.replies:
        full = state.model_dump(mode="json", include={*_REPEATS.values(), "replies"})
        for compact, reply in zip(value["replies"], full["replies"], strict=True):
            for own, of_dispatch in _REPEATS.items():
                if reply[own] == full[of_dispatch]:
                    compact.pop(own, None)
                else:
                    compact[own] = reply[own]
    # orjson's result keeps its whole write buffer (about 8 KB resident per value measured by
    # bench/bench_memory.py); a table value lives long, so it is copied to its exact size.
    return bytes(memoryview(orjson.dumps(value)))


def load(raw: Any) -> EscalationState | None:
    """A table value: compact bytes, or a dict (bytes of one) from before decision 030."""
    if not raw:
        return None
    value: dict[str, Any] = orjson.loads(raw) if isinstance(raw, bytes | str) else dict(raw)
    if "replies" in value:
        dispatch = {own: value.get(of, _DEFAULTS[of]) for own, of in _REPEATS.items()}
        value["replies"] = [dispatch | reply for reply in value["replies"]]
    return EscalationState.model_validate(value)


def may_be_open(raw: Any) -> bool:
    """Cheap: False for a value that is surely not open (acknowledged or resolved), without
    decoding it. "open" is the default status, so an open compact value has no top-level
    "status" key; an old dict value names it. Inside a JSON string a quote is escaped, so
    the bytes '"status":' can only be a key (a reply's key is "dispatch_status")."""
    if not raw:
        return False
    if isinstance(raw, bytes | str):
        data = raw.encode() if isinstance(raw, str) else raw
        return b'"status":' not in data or b'"status":"open"' in data
    return bool(raw.get("status") == "open")
