"""Compact JSON table values (decisions 022 and 030): fields at their defaults left out, and
fields that repeat another field of the same value left out too (they come back on load).

A field that repeats another is compared in its JSON form: it is left out only when its JSON
is the same, and written (even at its default) when it differs, so the round trip is exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

Repeats = Mapping[str, str]  # field -> the field it usually repeats (never itself repeated)


def drop_repeats(compact: dict[str, Any], full: Mapping[str, Any], repeats: Repeats) -> None:
    """Leave out of `compact` each field whose JSON in `full` equals its partner's."""
    for field, of in repeats.items():
        if full[field] == full[of]:
            compact.pop(field, None)
        else:
            compact[field] = full[field]


def restore_repeats(value: dict[str, Any], repeats: Repeats, defaults: Mapping[str, Any]) -> None:
    """Put back what `drop_repeats` left out (a missing partner is at its default)."""
    for field, of in repeats.items():
        if field not in value:
            value[field] = value.get(of, defaults.get(of))


def to_bytes(value: Any) -> bytes:
    """orjson's result keeps its whole write buffer (about 8 KB resident per value, measured
    by bench/bench_memory.py); a table value lives long, so it is copied to its size."""
    return bytes(memoryview(orjson.dumps(value)))
