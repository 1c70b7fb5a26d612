"""Which archived events a broker restore publishes: all of them, or only what the workers
need (the lean restore `dispatch up`'s supervisor uses, docs/decisions/025).

The workers need, from the archive:
- the event types their agents read (dispatch/worker/inputs.py): their tables are folds of
  those, and their open work (a contact not yet dispatched, a page not yet sent) is one of
  those; every other type (roster, audit, PageSent, RiskLevelChanged ...) is read by the
  projector only, whose offsets a restore sets past the restored log;
- nothing of a closed dispatch: resolved, and its follow-up opened (the follow-up agent's
  only remaining work), so no agent has anything left to do for it. A late reply to it is
  told that no open dispatch has its code.

Every restored record carries the RESTORED header: a worker re-reading restored history
appends none of the decisions the archive holds already (dispatch/worker/app.py), so a
restore costs its events' folds, not a second wave of appends through every agent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

RESTORED = "act-restored"  # record header of an event published by a restore
RESTORED_HEADERS = [(RESTORED, b"1")]


def carries_restored(headers: Any) -> bool:
    """Do a record's headers mark it as published by a restore? `headers` as faust gives
    them (a mapping of names) or as aiokafka does ((name, value) pairs); None when none."""
    if not headers:
        return False
    names = headers.keys() if isinstance(headers, Mapping) else (name for name, _ in headers)
    return any(name in (RESTORED, RESTORED.encode()) for name in names)


_COLUMNS = """event_id, type, schema_version, key, occurred_at, recorded_at, correlation_id,
           causation_id, actor, payload, topic, partition"""

_EVERYTHING = f"SELECT {_COLUMNS} FROM event_archive ORDER BY archived_seq"  # noqa: S608

# $1: the types the workers read. A closed dispatch: resolved, and its follow-up opened.
_NEEDED = f"""
    WITH closed AS (
        SELECT r.key FROM event_archive r
        WHERE r.type = 'DispatchResolved'
          AND EXISTS (SELECT 1 FROM event_archive f
                      WHERE f.type = 'FollowUpOpened' AND f.payload->>'dispatch_id' = r.key))
    SELECT {_COLUMNS} FROM event_archive a
    WHERE a.type = ANY($1::text[])
      AND NOT (a.topic = ANY($2::text[]) AND a.key IN (SELECT key FROM closed))
    ORDER BY a.archived_seq"""  # noqa: S608 (constant column list)


@dataclass(frozen=True)
class ArchiveQuery:
    sql: str
    args: tuple[object, ...] = ()


def archive_query(*, needed_only: bool) -> ArchiveQuery:
    """The archive in its order: every event, or only what the workers need."""
    if not needed_only:
        return ArchiveQuery(_EVERYTHING)
    from dispatch.topics import DISPATCH_EVENTS, PAGE_EVENTS
    from dispatch.worker.inputs import WORKER_INPUTS

    return ArchiveQuery(_NEEDED, (sorted(WORKER_INPUTS), [DISPATCH_EVENTS, PAGE_EVENTS]))
