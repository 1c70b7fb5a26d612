"""The web console's reads: a team's live board (open dispatches, their pages, each one's
escalation step folded from its own archived events), a cheap fingerprint of it to poll,
and the client facts a responder needs to act on one dispatch."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import asyncpg

from dispatch.escalation.audit import AUDITED_TYPES, fold
from dispatch.escalation.state import EscalationState
from dispatch.events import Envelope
from dispatch.risk.events import PlanAction, WarningSign
from projections.models import Dispatch, Page, Team
from projections.observations import ENVELOPE_COLUMNS, _envelope
from projections.queries import ReadModels, _make


@dataclass(frozen=True)
class BoardData:
    """Everything the live board shows for one team, read at one moment."""

    team: Team | None
    dispatches: Sequence[Dispatch]
    pages: Mapping[uuid.UUID, Sequence[Page]]
    escalation: Mapping[uuid.UUID, EscalationState]
    names: Mapping[str, str]  # staff id -> display name, leavers included


@dataclass(frozen=True)
class ClientFacts:
    """What a responder needs about the client of a dispatch, and no more."""

    client_id: str
    display_name: str
    phones: tuple[str, ...]
    preferred_gender: str
    language: str
    risk_level: str | None
    risk_reasons: tuple[str, ...] = ()
    warning_signs: tuple[WarningSign, ...] = ()
    triggers: tuple[str, ...] = ()
    actions: tuple[PlanAction, ...] = ()
    has_plan: bool = False


# Changes whenever anything shown on the board does: the set of open dispatches, their
# status, and how many events each has in the archive (pages, escalations, replies).
FINGERPRINT = """
    SELECT md5(coalesce(string_agg(d.dispatch_id::text || ':' || d.status || ':' ||
               (SELECT count(*) FROM event_archive a WHERE a.key = d.dispatch_id::text),
               ',' ORDER BY d.dispatch_id), ''))
    FROM dispatches d
    WHERE d.team_id = $1 AND d.status <> 'resolved' AND d.opened_at IS NOT NULL"""


class ConsoleBoard:
    def __init__(self, pool: asyncpg.Pool, read_models: ReadModels) -> None:
        self._pool = pool
        self._rm = read_models

    async def fingerprint(self, team_id: str) -> str:
        """One short query: equal fingerprints mean an unchanged board."""
        found: str = await self._pool.fetchval(FINGERPRINT, team_id)
        return found

    async def board(self, team_id: str) -> BoardData:
        """The team's open and acknowledged dispatches with what the board shows of each."""
        return await self._shown(team_id, await self._rm.open_dispatches(team_id))

    async def one(self, dispatch: Dispatch) -> BoardData:
        """One dispatch (open or not) with what the board would show of it."""
        return await self._shown(dispatch.team_id, [dispatch])

    async def _shown(self, team_id: str, dispatches: Sequence[Dispatch]) -> BoardData:
        ids = [d.dispatch_id for d in dispatches]
        async with self._pool.acquire() as conn:
            page_rows = await conn.fetch(
                """SELECT * FROM pages WHERE dispatch_id = ANY($1::uuid[])
                     AND requested_at IS NOT NULL
                   ORDER BY requested_at, step, attempt, notification_id""",
                ids,
            )
            history = await conn.fetch(
                f"""SELECT {ENVELOPE_COLUMNS} FROM event_archive
                    WHERE key = ANY($1::text[]) AND type = ANY($2::text[])
                    ORDER BY key, (type = 'DispatchOpened') DESC, occurred_at, recorded_at""",  # noqa: S608 - a fixed column list
                [str(i) for i in ids],
                sorted(AUDITED_TYPES),
            )
            name_rows = await conn.fetch(
                "SELECT staff_id, display_name FROM staff WHERE team_id = $1", team_id
            )
        pages: dict[uuid.UUID, list[Page]] = {}
        for row in page_rows:
            pages.setdefault(row["dispatch_id"], []).append(_make(Page, row))
        events: dict[str, list[Envelope]] = {}
        for row in history:
            events.setdefault(row["key"], []).append(_envelope(row))
        states = {uuid.UUID(key): fold(evs) for key, evs in events.items()}
        names = {r["staff_id"]: r["display_name"] for r in name_rows}
        for page in (p for ps in pages.values() for p in ps if p.staff_id not in names):
            other = await self._rm.staff(page.staff_id)  # paged from a covering team
            names[page.staff_id] = other.display_name if other else page.staff_id
        return BoardData(
            team=await self._rm.team(team_id),
            dispatches=dispatches,
            pages=pages,
            escalation={k: v for k, v in states.items() if v is not None},
            names=names,
        )

    async def client_facts(self, client_id: str) -> ClientFacts | None:
        """The client's name, numbers, preferences, risk and relapse-prevention plan."""
        row = await self._pool.fetchrow(
            """SELECT c.client_id, c.display_name, c.phone, c.other_phones, c.preferred_gender,
                      c.language, r.level, r.reasons, p.plan::text AS plan
               FROM clients c
               LEFT JOIN client_risk r USING (client_id)
               LEFT JOIN relapse_plans p USING (client_id)
               WHERE c.client_id = $1""",
            client_id,
        )
        if row is None:
            return None
        plan = json.loads(row["plan"]) if row["plan"] else {}
        phones = tuple(p for p in (row["phone"], *row["other_phones"]) if p)
        return ClientFacts(
            client_id=row["client_id"],
            display_name=row["display_name"],
            phones=phones,
            preferred_gender=row["preferred_gender"],
            language=row["language"],
            risk_level=row["level"],
            risk_reasons=tuple(row["reasons"] or ()),
            warning_signs=tuple(
                WarningSign.model_validate(s) for s in plan.get("warning_signs", ())
            ),
            triggers=tuple(plan.get("triggers", ())),
            actions=tuple(PlanAction.model_validate(a) for a in plan.get("actions", ())),
            has_plan=bool(plan),
        )
