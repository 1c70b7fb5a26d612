"""The review desk: load from the archive, compute with the pure functions, and record every
read of client data (ClientRecordsViewed, spooled) before the answer is returned."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from dispatch.clock import Clock
from dispatch.review.asof import AsOf, believed_at
from dispatch.review.client import ClientHistory, review_client
from dispatch.review.facts import Archived, envelope_of, of_type
from dispatch.review.fidelity import Fidelity, fidelity
from dispatch.review.incident import Incident, IncidentSummary, review_incident
from dispatch.review.ports import Recorder, ReviewArchive
from dispatch.review.roster import members_at
from dispatch.review.team import TeamFigures, team_figures
from dispatch.risk.intake import records_viewed
from dispatch.rota.state import RotaState, TeamRota, evolve_team

TEAM_APPROACH_LOOKBACK = timedelta(days=14)


def team_rota(team_id: str, stream: Iterable[Archived]) -> TeamRota:
    """The team's rota folded from its own stream (every rota event known now)."""
    rota = RotaState().team(team_id)
    for fact in stream:
        event = envelope_of(fact)
        if event is not None:
            rota = evolve_team(rota, event)
    return rota


class ReviewDesk:
    def __init__(
        self, archive: ReviewArchive, recorder: Recorder, clock: Clock, known: frozenset[str]
    ) -> None:
        self._archive = archive
        self._recorder = recorder
        self._clock = clock
        self._known = known

    async def _audit(self, team_id: str, viewer: str, view: str, clients: Iterable[str]) -> None:
        ids = sorted({c for c in clients if c})
        if ids:
            read = records_viewed(team_id=team_id, viewer=viewer, view=view, client_ids=ids,
                                  now=self._clock.now())  # fmt: skip
            await self._recorder.record([read])

    async def _incidents(self, openings: Sequence[Archived]) -> list[Incident]:
        """The incidents of these openings: their events, and their clients' contacts (one
        query each, whatever the number of incidents)."""
        if not openings:
            return []
        facts = await self._archive.correlated(
            [o.correlation_id for o in openings], keys=[o.key for o in openings]
        )
        clients = sorted(
            {str(o.payload["client_id"]) for o in openings if o.payload.get("client_id")}
        )
        contacts = await self._archive.about_clients(
            clients, min(o.occurred_at for o in openings), None, types=["ContactRecorded"]
        ) if clients else []  # fmt: skip
        by_correlation: dict[uuid.UUID, list[Archived]] = defaultdict(list)
        on_own: dict[str, list[Archived]] = defaultdict(list)  # keyed to the dispatch only
        for f in facts:
            by_correlation[f.correlation_id].append(f)
            if f.correlation_id == f.event_id:
                on_own[f.key].append(f)
        visits: dict[str, list[Archived]] = defaultdict(list)
        for c in contacts:
            visits[str(c.payload.get("client_id"))].append(c)
        out = []
        for o in openings:
            mine = {f.event_id: f for f in (*by_correlation[o.correlation_id], *on_own[o.key])}
            incident = review_incident(list(mine.values()), visits[str(o.payload.get("client_id"))])
            if incident is not None:
                out.append(incident)
        return out

    async def incident(self, code: str, *, team_id: str | None, viewer: str) -> Incident | None:
        """One incident by its code (None: no such code, or another team's)."""
        opening = await self._archive.dispatch_opened(code.upper())
        if opening is None or (team_id is not None and opening.payload["team_id"] != team_id):
            return None
        [incident] = await self._incidents([opening])
        await self._audit(incident.team_id, viewer, f"review:incident:{incident.short_code}",
                          [incident.client_id or ""])  # fmt: skip
        return incident

    async def incidents(
        self,
        team_id: str,
        start: datetime,
        end: datetime,
        *,
        viewer: str,
        reason: str | None = None,
        outcome: str | None = None,
        escalated: bool | None = None,
    ) -> list[IncidentSummary]:
        """The team's incidents that started in [start, end), filtered."""
        found = [
            i.summary() for i in await self._incidents(
                await self._archive.openings(team_id, start, end)
            )
        ]  # fmt: skip
        chosen = [
            s
            for s in found
            if (reason is None or s.reason == reason)
            and (outcome is None or outcome.lower() in (s.outcome or "").lower())
            and (escalated is None or s.escalated == escalated)
        ]
        await self._audit(team_id, viewer, "review:incidents", [s.client_id or "" for s in chosen])
        return chosen

    async def client(
        self,
        client_id: str,
        *,
        team_id: str | None,
        viewer: str,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> ClientHistory | None:
        """A client's history (None: no such client, or another team's)."""
        home = await self._archive.client_team(client_id)
        if home is None or (team_id is not None and home != team_id):
            return None
        facts = await self._archive.about_clients([client_id], start, end)
        history = review_client(client_id, facts, known_types=self._known, start=start, end=end)
        await self._audit(home, viewer, "review:client", [client_id])
        return history

    async def as_of(self, at: datetime, *, team_id: str | None, viewer: str) -> AsOf:
        """What the system believed at `at` (one team, or all)."""
        belief = believed_at(await self._archive.known_by(at, team_id), at, team_id)
        by_team: dict[str, list[str]] = {}
        for c in belief.clients:
            by_team.setdefault(c.team_id or "", []).append(c.client_id)
        for team, clients in sorted(by_team.items()):
            await self._audit(team, viewer, f"review:as-of:{at.isoformat()}", clients)
        return belief

    async def team(self, team_id: str, start: datetime, end: datetime) -> TeamFigures:
        """Response figures of the incidents that started in [start, end); no client data."""
        incidents = await self._incidents(await self._archive.openings(team_id, start, end))
        return team_figures(
            team_id, start, end,
            incidents=incidents,
            rota=team_rota(team_id, await self._archive.team_stream(team_id)),
            membership=await self._archive.membership(team_id),
        )  # fmt: skip

    async def fidelity(self, team_id: str, start: datetime, end: datetime) -> Fidelity:
        """DACTS items over [start, end); aggregate figures only, no client data."""
        stream = await self._archive.team_stream(team_id)
        members = members_at(await self._archive.membership(team_id), team_id, end)
        since = min(start, end - TEAM_APPROACH_LOOKBACK)
        contacts = await self._archive.about_clients(
            members.clients, since, end, types=["ContactRecorded"]
        )
        openings = await self._archive.openings(team_id, start, end)
        calls = of_type(
            await self._archive.correlated([o.correlation_id for o in openings], keys=()),
            "CrisisCallReceived",
        )
        return fidelity(
            team_id, start, end,
            members=members, contacts=contacts, meetings=of_type(stream, "TeamMeetingHeld"),
            calls=calls, rota=team_rota(team_id, stream),
        )  # fmt: skip
