"""The risk questions: the daily huddle board, a client's risk, consent for carers' signals.

The board's score is the client's current score when the board is read: their risk events
are folded again from the archive (the same pure fold the risk agent runs) and decayed to
that moment, not the value stored at the last change of level."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

import asyncpg

from dispatch.clients.careplans import CARE_PLAN_REVIEW_INTERVAL
from dispatch.risk.fold import FOLDED, current_score, evolve, initial
from dispatch.risk.levels import DEFAULT_POLICY
from dispatch.risk.ports import ClientRef, HuddleRow, StaffContacts
from dispatch.vocabulary import ServiceModel
from projections.streams import archived

LEVEL_ORDER = {"crisis": 0, "high": 1, "elevated": 2, "stable": 3}
PLAN_REVIEW_INTERVAL = DEFAULT_POLICY.plan_review_interval  # reviewed every six months
RECENT = timedelta(hours=24)
RISK_TYPES = tuple(cls.event_type for cls in FOLDED)


class RiskQueries:
    """The risk read models, answering the risk area's ports (dispatch.risk.ports)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def client(self, client_id: str) -> ClientRef | None:
        row = await self._pool.fetchrow(
            "SELECT client_id, team_id FROM clients WHERE client_id = $1", client_id
        )
        return ClientRef(row["client_id"], row["team_id"]) if row else None

    async def carer_consents(self, client_id: str, carer_id: str) -> bool | None:
        """Whether the client consents to share with this carer; None: no such carer."""
        consents: bool | None = await self._pool.fetchval(
            "SELECT consents FROM carers WHERE client_id = $1 AND carer_id = $2",
            client_id,
            carer_id,
        )
        return consents

    async def has_plan(self, client_id: str) -> bool:
        found: bool = await self._pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM relapse_plans WHERE client_id = $1)", client_id
        )
        return found

    async def service_models(self, team_ids: Iterable[str]) -> dict[str, ServiceModel]:
        """The service model (ACT, ICM) of each of these teams that is on the roster."""
        rows = await self._pool.fetch(
            "SELECT team_id, service_model FROM teams WHERE team_id = ANY($1::text[])",
            sorted(team_ids),
        )
        return {r["team_id"]: r["service_model"] for r in rows}

    async def level(self, client_id: str) -> str | None:
        level: str | None = await self._pool.fetchval(
            "SELECT level FROM client_risk WHERE client_id = $1", client_id
        )
        return level

    async def risk_history(self, client_id: str) -> list[tuple[str, str, uuid.UUID]]:
        """(from_level, to_level, event_id) in event time order."""
        rows = await self._pool.fetch(
            """SELECT from_level, to_level, event_id FROM risk_changes WHERE client_id = $1
               ORDER BY occurred_at, event_id""",
            client_id,
        )
        return [(r["from_level"], r["to_level"], r["event_id"]) for r in rows]

    async def huddle(self, team_id: str, now: datetime) -> list[HuddleRow]:
        """Every client of the team, highest risk first (stable ones by overdue contact)."""
        since = now - RECENT
        rows = await self._pool.fetch(
            """SELECT c.client_id, c.display_name, c.team_id, c.transfer_to_team_id,
                      c.care_coordinator_id, c.contact_target_days,
                      COALESCE(r.level, 'stable') AS level, COALESCE(r.score, 0) AS score,
                      COALESCE(r.reasons, '{}') AS reasons, r.changed_at,
                      (SELECT max(occurred_at) FROM client_contacts cc
                        WHERE cc.client_id = c.client_id AND cc.kind <> 'attempted')
                        AS last_contact_at,
                      (SELECT max(occurred_at) FROM client_contacts cc
                        WHERE cc.client_id = c.client_id AND cc.kind = 'face_to_face')
                        AS last_face_to_face_at,
                      ARRAY(SELECT d.short_code FROM dispatches d
                             WHERE d.client_id = c.client_id AND d.status <> 'resolved'
                               AND d.opened_at IS NOT NULL ORDER BY d.opened_at)
                        AS open_dispatches,
                      ARRAY(SELECT t.due_by::text FROM outreach_tasks t
                             WHERE t.client_id = c.client_id AND t.closed_at IS NULL
                             ORDER BY t.created_at) AS outreach_due,
                      (SELECT min(f.due_at) FROM follow_ups f
                        WHERE f.client_id = c.client_id AND f.closed_at IS NULL) AS follow_up_due,
                      p.reviewed_at, cp.reviewed_at AS care_plan_reviewed_at,
                      (SELECT max(a.since) FROM missed_contact_alerts a
                        WHERE a.client_id = c.client_id AND NOT EXISTS (
                            SELECT 1 FROM client_contacts cc
                            WHERE cc.client_id = c.client_id AND cc.kind = 'face_to_face'
                              AND cc.occurred_at > a.since)) AS missed_contact_since,
                      ct.target_days
               FROM clients c
               LEFT JOIN client_risk r ON r.client_id = c.client_id
               LEFT JOIN relapse_plans p ON p.client_id = c.client_id
               LEFT JOIN care_plans cp ON cp.client_id = c.client_id
               LEFT JOIN client_contact_targets ct
                      ON ct.client_id = c.client_id AND ct.team_id = c.team_id
               WHERE (c.team_id = $1 OR c.transfer_to_team_id = $1) AND c.status = 'enrolled'""",
            team_id,
        )
        changes = await self._changes(team_id, since)
        scores = await self.current_scores([r["client_id"] for r in rows], now)
        board = [
            HuddleRow(
                client_id=r["client_id"],
                display_name=r["display_name"],
                level=r["level"],
                score=scores.get(r["client_id"], float(r["score"])),
                reasons=tuple(r["reasons"]),
                level_changed_at=r["changed_at"],
                last_contact_at=r["last_contact_at"],
                last_face_to_face_at=r["last_face_to_face_at"],
                open_dispatches=tuple(r["open_dispatches"]),
                outreach_due=tuple(r["outreach_due"]),
                plan_review_due=_due(r["reviewed_at"], PLAN_REVIEW_INTERVAL),
                plan_review_overdue=_overdue(r["reviewed_at"], PLAN_REVIEW_INTERVAL, now),
                missed_contact_since=r["missed_contact_since"],
                changes_24h=tuple(changes.get(r["client_id"], ())),
                contact_target_days=r["contact_target_days"] or r["target_days"],
                follow_up_due=r["follow_up_due"],
                care_coordinator_id=r["care_coordinator_id"],
                care_plan_review_due=_due(r["care_plan_reviewed_at"], CARE_PLAN_REVIEW_INTERVAL),
                care_plan_review_overdue=_overdue(
                    r["care_plan_reviewed_at"], CARE_PLAN_REVIEW_INTERVAL, now
                ),
                transfer=_transfer(team_id, r["team_id"], r["transfer_to_team_id"]),
            )
            for r in rows
        ]
        return sorted(board, key=_board_order)

    async def _changes(self, team_id: str, since: datetime) -> dict[str, list[str]]:
        rows = await self._pool.fetch(
            """SELECT x.client_id, x.at, x.what FROM (
                   SELECT client_id, occurred_at AS at,
                          'risk ' || from_level || ' -> ' || to_level AS what
                   FROM risk_changes WHERE occurred_at >= $2
                   UNION ALL
                   SELECT client_id, occurred_at,
                          'signal ' || sign || ' (' || source || ', severity ' || severity || ')'
                   FROM relapse_signals WHERE occurred_at >= $2
                   UNION ALL
                   SELECT client_id, occurred_at,
                          'contact ' || kind || ' by ' || array_to_string(staff_ids, ', ')
                   FROM client_contacts WHERE occurred_at >= $2
                   UNION ALL
                   SELECT client_id, overdue_at,
                          'plan review overdue (plan agreed '
                          || to_char(reviewed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') || ')'
                   FROM plan_review_alerts WHERE overdue_at >= $2
               ) AS x JOIN clients c ON c.client_id = x.client_id
                                     AND (c.team_id = $1 OR c.transfer_to_team_id = $1)
               ORDER BY x.client_id, x.at, x.what""",
            team_id,
            since,
        )
        out: dict[str, list[str]] = {}
        for r in rows:
            out.setdefault(r["client_id"], []).append(f"{r['at']:%Y-%m-%d %H:%M}Z {r['what']}")
        return out

    async def contacts_by_staff(
        self, team_id: str, since: datetime, until: datetime
    ) -> list[StaffContacts]:
        """Each member of the team's contacts in [since, until): the team approach counts a
        visit by several staff once for each of them."""
        rows = await self._pool.fetch(
            """SELECT s.staff_id,
                      count(cc.event_id) FILTER (WHERE cc.kind = 'face_to_face') AS face_to_face,
                      count(cc.event_id) FILTER (WHERE cc.kind = 'phone') AS phone,
                      count(cc.event_id) FILTER (WHERE cc.kind = 'attempted') AS attempted,
                      COALESCE(sum(cc.minutes), 0) AS minutes
               FROM staff s
               LEFT JOIN client_contacts cc ON s.staff_id = ANY(cc.staff_ids)
                     AND cc.occurred_at >= $2 AND cc.occurred_at < $3
               WHERE s.team_id = $1
               GROUP BY s.staff_id ORDER BY s.staff_id""",
            team_id,
            since,
            until,
        )
        return [StaffContacts(r["staff_id"], r["face_to_face"], r["phone"], r["attempted"],
                              int(r["minutes"])) for r in rows]  # fmt: skip

    async def current_scores(self, client_ids: list[str], now: datetime) -> dict[str, float]:
        """Each client's score at `now`: their risk events folded again, then decayed."""
        scores: dict[str, float] = {}
        for client_id, events in (await archived(self._pool, client_ids, RISK_TYPES)).items():
            state = initial(client_id)
            for event in events:
                state = evolve(state, event)
            scores[client_id] = round(current_score(state, now), 3)
        return scores


def _due(at: datetime | None, interval: timedelta) -> datetime | None:
    return at + interval if at is not None else None


def _overdue(at: datetime | None, interval: timedelta, now: datetime) -> bool:
    return at is not None and at + interval < now


def _transfer(board_team: str, team_id: str, moving_to: str | None) -> str | None:
    """How a client moving between teams shows on each team's board."""
    if moving_to is None:
        return None
    return f"from {team_id}" if board_team == moving_to else f"to {moving_to}"


def _board_order(row: HuddleRow) -> tuple[int, float, float, str]:
    last = row.last_face_to_face_at.timestamp() if row.last_face_to_face_at else 0.0
    return (LEVEL_ORDER.get(row.level, 9), -row.score, last, row.client_id)
