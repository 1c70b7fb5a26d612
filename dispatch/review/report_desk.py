"""The report's reads: the review desk's own (incidents, team figures, fidelity) and the
clients' risk changes, with one ClientRecordsViewed naming every client the report shows,
recorded before it is returned."""

from __future__ import annotations

from datetime import datetime

from dispatch.review.report import (
    ReviewReport,
    build_report,
    clients_in_window,
    risk_over_time,
)
from dispatch.review.service import ReviewDesk

VIEW = "review:report"


class NotOnTeam(LookupError):
    """The client asked for is not (or was never) on the team's caseload."""


class UnknownTeam(LookupError):
    """No such team in the archive."""


class ReportDesk(ReviewDesk):
    async def report(
        self,
        team_id: str,
        start: datetime,
        end: datetime,
        *,
        viewer: str,
        client_id: str | None = None,
    ) -> ReviewReport:
        """The team's report over [start, end): risk for one client, else for every client
        on the team's caseload at some time in the window."""
        if not await self._archive.team_stream(team_id):
            raise UnknownTeam(team_id)
        if client_id is not None and await self._archive.client_team(client_id) != team_id:
            raise NotOnTeam(client_id)
        incidents = await self._incidents(await self._archive.openings(team_id, start, end))
        if client_id is None:
            membership = await self._archive.membership(team_id)
            clients: tuple[str, ...] = clients_in_window(membership, team_id, start, end)
        else:
            clients = (client_id,)
        changes = (
            await self._archive.about_clients(clients, None, end, types=["RiskLevelChanged"])
            if clients
            else []
        )
        report = build_report(
            team=await self.team(team_id, start, end),
            fidelity=await self.fidelity(team_id, start, end),
            incidents=incidents,
            risk=risk_over_time(changes, clients, start, end),
        )
        await self._audit(team_id, viewer, VIEW, report.client_ids)
        return report
