"""The review's reads of the event archive (dispatch.review.ports.ReviewArchive).

Every answer is sorted here into event-time order with causes first (as ReadModels.archive).
Events about a client are found by key, by a `client_id` in the payload, or by the audit's
`client_ids` list naming them; the indexes of migration 011 serve these.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from dispatch.review.facts import event_time_order
from dispatch.review.roster import MEMBERSHIP_TYPES
from projections.models import ArchivedEvent
from projections.queries import _make

DISPATCH_LIFE = ["DispatchAcknowledged", "DispatchResolved", "DispatchEscalated"]
TEAM_STREAM_EXCLUDES = ["ClientRecordsViewed"]


class ReviewQueries:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def _fetch(self, sql: str, *args: Any) -> list[ArchivedEvent]:
        rows = await self._pool.fetch(sql, *args)
        events = [_make(ArchivedEvent, r, payload=json.loads(r["payload"])) for r in rows]
        return [e for e in event_time_order(events) if isinstance(e, ArchivedEvent)]

    async def dispatch_opened(self, short_code: str) -> ArchivedEvent | None:
        found = await self._fetch(
            """SELECT * FROM event_archive
               WHERE type = 'DispatchOpened' AND payload->>'short_code' = $1
               ORDER BY occurred_at DESC, event_id LIMIT 1""",
            short_code,
        )
        return found[0] if found else None

    async def openings(self, team_id: str, start: datetime, end: datetime) -> list[ArchivedEvent]:
        return await self._fetch(
            """SELECT * FROM event_archive
                WHERE type = 'DispatchOpened' AND payload->>'team_id' = $1
                  AND occurred_at >= $2 AND occurred_at < $3""",
            team_id,
            start,
            end,
        )

    async def correlated(
        self, correlation_ids: Sequence[uuid.UUID], keys: Sequence[str]
    ) -> list[ArchivedEvent]:
        return await self._fetch(
            """SELECT * FROM event_archive
               WHERE correlation_id = ANY($1::uuid[]) OR key = ANY($2::text[])""",
            list(correlation_ids),
            list(keys),
        )

    async def about_clients(
        self,
        client_ids: Sequence[str],
        start: datetime | None,
        end: datetime | None,
        types: Sequence[str] | None = None,
    ) -> list[ArchivedEvent]:
        return await self._fetch(
            """WITH mine AS (
                    SELECT * FROM event_archive
                    WHERE key = ANY($1::text[]) OR payload->>'client_id' = ANY($1::text[])
                       OR (type = 'ClientRecordsViewed' AND payload->'client_ids' ?| $1::text[])),
                     life AS (
                         SELECT a.* FROM event_archive a
                         WHERE a.type = ANY($5::text[]) AND a.correlation_id IN (
                             SELECT correlation_id FROM mine WHERE type = 'DispatchOpened'))
                SELECT * FROM (SELECT * FROM mine UNION SELECT * FROM life) AS found
                WHERE ($2::timestamptz IS NULL OR occurred_at >= $2)
                  AND ($3::timestamptz IS NULL OR occurred_at < $3)
                  AND ($4::text[] IS NULL OR type = ANY($4::text[]))""",
            list(client_ids),
            start,
            end,
            list(types) if types is not None else None,
            DISPATCH_LIFE,
        )

    async def team_stream(self, team_id: str) -> list[ArchivedEvent]:
        return await self._fetch(
            """SELECT * FROM event_archive
                WHERE key = $1 AND NOT type = ANY($2::text[])""",
            team_id,
            TEAM_STREAM_EXCLUDES,
        )

    async def membership(self, team_id: str) -> list[ArchivedEvent]:
        return await self._fetch(
            """WITH people AS (
                    SELECT COALESCE(payload->>'client_id', payload->>'staff_id') AS id
                    FROM event_archive
                    WHERE type = ANY($2::text[])
                      AND COALESCE(payload->>'to_team_id', payload->>'team_id') = $1)
                SELECT * FROM event_archive
                WHERE type = ANY($2::text[])
                  AND COALESCE(payload->>'client_id', payload->>'staff_id') IN (
                      SELECT id FROM people)""",
            team_id,
            list(MEMBERSHIP_TYPES),
        )

    async def known_by(self, at: datetime, team_id: str | None) -> list[ArchivedEvent]:
        return await self._fetch(
            """WITH clients AS (
                    SELECT payload->>'client_id' AS id FROM event_archive
                    WHERE type IN ('ClientEnrolled', 'TransferCompleted', 'ClientReReferred')
                      AND COALESCE(payload->>'to_team_id', payload->>'team_id') = $2),
                dispatches AS (
                    SELECT correlation_id FROM event_archive
                    WHERE type = 'DispatchOpened' AND payload->>'team_id' = $2)
                SELECT * FROM event_archive
                WHERE (occurred_at <= $1 OR recorded_at <= $1)
                  AND ($2::text IS NULL OR key = $2 OR key IN (SELECT id FROM clients)
                       OR correlation_id IN (SELECT correlation_id FROM dispatches))""",
            at,
            team_id,
        )

    async def client_team(self, client_id: str) -> str | None:
        # The latest of the events that put a client on a caseload (a completed transfer
        # names the new team as to_team_id); a discharge keeps the team whose history it is.
        team: str | None = await self._pool.fetchval(
            """SELECT COALESCE(payload->>'to_team_id', payload->>'team_id') FROM event_archive
               WHERE type IN ('ClientEnrolled', 'TransferCompleted', 'ClientReReferred')
                 AND payload->>'client_id' = $1
               ORDER BY occurred_at DESC, recorded_at DESC LIMIT 1""",
            client_id,
        )
        return team
