"""The escalation table's values: compact JSON bytes of EscalationState (decision 030).

Fields at their defaults are left out, and so are a remembered reply decision's fields that
repeat the dispatch's own (its id and code; its outcome, holder and status when they are
the dispatch's latest): they come back on load (dispatch/worker/compact.py), exactly, so a
restored table decides what the old one would have. A value written before decision 030
(a JSON dict, in memory or on the changelog) is read as well.
"""

from __future__ import annotations

from collections.abc import Iterable
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


class DueWatch:
    """Which open dispatches' deadlines have passed, for the escalation timer: a table value
    is decoded once while it stays the same. Before, every tick decoded every open
    dispatch, so the timer's work grew with the open dispatches (6,000 after a minute at
    100 calls/s, a third of a core at two ticks a second)."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[Any, datetime | None]] = {}  # key -> (value, deadline)

    def due(
        self, items: Iterable[tuple[str, Any]], now: datetime
    ) -> list[tuple[str, EscalationState]]:
        """(key, state) of each of `items` (the table's key, value pairs) waiting for a
        deadline at or before `now` (`is_due`), in the order given; forgets the keys no
        longer given."""
        known: dict[str, tuple[Any, datetime | None]] = {}
        found: list[tuple[str, EscalationState]] = []
        for key, raw in items:
            if not may_be_open(raw):
                continue  # acknowledged or resolved: never waits, stays undecoded
            state: EscalationState | None = None
            seen = self._known.get(key)
            if seen is not None and seen[0] == raw:
                deadline = seen[1]
            else:
                state = load(raw)
                deadline = state.deadline_at if state is not None and state.waiting else None
            known[key] = (raw, deadline)
            if deadline is not None and deadline <= now:
                state = state or load(raw)
                if state is not None:
                    found.append((key, state))
        self._known = known
        return found
