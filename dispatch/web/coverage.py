"""The facts the call tree needs: who answers a team's line, from the read models or, when
PostgreSQL is down, from the edge's memory of them (rota_cache.py)."""

from __future__ import annotations

from datetime import datetime

import structlog

from dispatch.crisis.calltree import TeamLine, fallback_team_of
from dispatch.web.context import WebContext

log = structlog.get_logger(__name__)


async def team_line(c: WebContext, team_id: str, at: datetime) -> TeamLine:
    """Who is on duty on `team_id`'s line at `at`, with the team's own fallback number."""
    on_duty = await c.rota_cache.on_duty(team_id, at)
    team = await c.rota_cache.team(team_id)
    return TeamLine(team_id, on_duty, team.fallback_number if team else None)


async def lines(c: WebContext, team_id: str, at: datetime) -> tuple[TeamLine, TeamLine | None]:
    """A team's line and, outside its covered hours, its fallback team's line."""
    home = await team_line(c, team_id, at)
    fallback_id = fallback_team_of(home)
    return home, await team_line(c, fallback_id, at) if fallback_id else None


def note_routing(home: TeamLine, answering_team_id: str) -> None:
    """Log a call or text that another team answers because its own team is out of hours."""
    if answering_team_id != home.team_id:
        log.info(
            "crisis_line_out_of_hours", team_id=home.team_id, fallback_team_id=answering_team_id
        )
