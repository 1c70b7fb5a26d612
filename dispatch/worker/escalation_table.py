"""The escalation table's values: compact JSON bytes of EscalationState (decision 030).

Fields at their defaults are left out, and so are a remembered reply decision's fields that
repeat the dispatch's own (its id and code; its outcome, holder and status when they are
the dispatch's latest): they come back on load (dispatch/worker/compact.py), exactly, so a
restored table decides what the old one would have. A value written before decision 030
(a JSON dict, in memory or on the changelog) is read as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import orjson

from dispatch.escalation.state import EscalationState
from dispatch.worker.compact import drop_repeats, restore_repeats, to_bytes

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
            drop_repeats(compact, {**reply, **{f"_{k}": full[k] for k in _DISPATCH}}, _PAIRS)
    return to_bytes(value)


def load(raw: Any) -> EscalationState | None:
    """A table value: compact bytes, or a dict (bytes of one) from before decision 030."""
    if not raw:
        return None
    value: dict[str, Any] = orjson.loads(raw) if isinstance(raw, bytes | str) else dict(raw)
    if "replies" in value:
        dispatch = {f"_{k}": value.get(k, _DEFAULTS[k]) for k in _DISPATCH}
        for reply in value["replies"]:
            restore_repeats(reply, _PAIRS, dispatch)
    return EscalationState.model_validate(value)


# The dispatch's fields, seen from a reply as "_<name>" (a reply has no such keys).
_DISPATCH = tuple(dict.fromkeys(_REPEATS.values()))
_PAIRS = {own: f"_{of}" for own, of in _REPEATS.items()}


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


def waiting_states(items: Iterable[tuple[str, Any]]) -> Iterator[tuple[str, EscalationState]]:
    """(key, state) of the table's values that may be open, decoded; the others (most: the
    tombstones of resolved dispatches) stay undecoded. For the deadline index's rebuild."""
    for key, raw in items:
        if may_be_open(raw) and (state := load(raw)) is not None:
            yield key, state


def deadline_of(state: EscalationState) -> datetime | None:
    """When the timer must look at this dispatch again: its deadline while it waits."""
    return state.deadline_at if state.waiting else None
