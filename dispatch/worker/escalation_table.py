"""The escalation table's values: compact JSON bytes of EscalationState (decision 030).

Fields at their defaults are left out, and so are a remembered reply decision's dispatch id
and short code when they are the dispatch's own (they come back on load). A value written
before decision 030 (a JSON dict, in memory or on the changelog) is read as well. The round
trip is exact, so a restored table decides exactly what the old one would have.
"""

from __future__ import annotations

from typing import Any

import orjson

from dispatch.escalation.state import EscalationState

_OWN = ("dispatch_id", "short_code")  # a reply decision's fields the dispatch already holds


def dump(state: EscalationState) -> bytes:
    value = state.model_dump(mode="json", exclude_defaults=True)
    for reply in value.get("replies", ()):
        for name in _OWN:
            if reply.get(name) == value[name]:
                del reply[name]
    # orjson's result keeps its whole write buffer (about 8 KB resident per value measured by
    # bench/bench_memory.py); a table value lives long, so it is copied to its exact size.
    return bytes(memoryview(orjson.dumps(value)))


def load(raw: Any) -> EscalationState | None:
    """A table value: compact bytes, or a dict (bytes of one) from before decision 030."""
    if not raw:
        return None
    value: dict[str, Any] = orjson.loads(raw) if isinstance(raw, bytes | str) else dict(raw)
    if "replies" in value:
        own = {name: value[name] for name in _OWN}
        value["replies"] = [own | reply for reply in value["replies"]]
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
