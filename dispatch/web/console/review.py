"""The incident review for managers and team leads (the API's roles for GET /api/review/...):
/console/review lists the team's incidents of a period, /console/review/incidents/<code>
is one incident's timeline with its response figures and charts. Both read through the
review desk (dispatch/review/service.py), the same figures as `dispatch review incidents`
and `dispatch review incident CODE`, and the desk records every read of client data
(ClientRecordsViewed, `review:incidents` / `review:incident:<code>`) as it does for the
commands and the API. Anyone else gets a 403 page and nothing is read."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiohttp import web

from dispatch.crisis.codes import normalise_code
from dispatch.review.render import duration
from dispatch.review.report_charts import incident_timeline
from dispatch.web.console.access import Viewer
from dispatch.web.console.render import render, viewer
from dispatch.web.console.review_view import (
    REASONS,
    BadFilter,
    clock,
    figures_chart,
    list_figures,
    local,
    period,
)
from dispatch.web.context import ctx
from dispatch.web.review_api import REVIEWERS

routes = web.RouteTableDef()


async def _zone(request: web.Request, team_id: str) -> ZoneInfo:
    team = await ctx(request).read_models.team(team_id)
    return ZoneInfo(team.time_zone if team else "UTC")


def _team(request: web.Request, who: Viewer) -> str | web.Response:
    """The team whose review this person may read, or the page refusing them."""
    if not who.may(REVIEWERS):
        return render(request, "review_forbidden.html", status=403)
    return who.team_id if who.team_id is not None else render(request, "no_team.html")


@routes.get("/console/review")
async def incident_list(request: web.Request) -> web.Response:
    who, c = viewer(request), ctx(request)
    team_id = _team(request, who)
    if isinstance(team_id, web.Response):
        return team_id
    zone = await _zone(request, team_id)
    form = {k: request.query.get(k, "") for k in ("from", "to", "reason", "escalated")}
    try:
        asked = period(request.query, c.clock.now(), zone)
    except BadFilter as bad:
        return render(request, "review_list.html", status=400, problem=bad, form=form,
                      rows=None, reasons=REASONS, zone=zone.key)  # fmt: skip
    rows = await c.review.incidents(
        team_id, asked.start, asked.end, viewer=who.audit_name,
        reason=asked.reason, escalated=asked.escalated,
    )  # fmt: skip
    rows = sorted(rows, key=lambda s: (s.started_at, s.short_code), reverse=True)
    form |= {"from": asked.first.isoformat(), "to": asked.last.isoformat()}
    return render(request, "review_list.html", problem=None, form=form, rows=rows,
                  figures=list_figures(rows, asked, zone), reasons=REASONS, zone=zone.key,
                  duration=duration, local=lambda at: local(at, zone))  # fmt: skip


@routes.get("/console/review/incidents/{code}")
async def incident_page(request: web.Request) -> web.Response:
    who, c = viewer(request), ctx(request)
    team_id = _team(request, who)
    if isinstance(team_id, web.Response):
        return team_id
    code = normalise_code(request.match_info["code"])
    found = await c.review.incident(code, team_id=team_id, viewer=who.audit_name)
    if found is None:
        return render(request, "not_in_team.html", status=404,
                      what=f"There is no incident {code} in your team.")  # fmt: skip
    zone = await _zone(request, team_id)
    day = found.started_at.astimezone(zone).date()
    return render(request, "review_incident.html", i=found, zone=zone.key,
                  charts=(figures_chart(found), incident_timeline(found)),
                  duration=duration, local=lambda at: local(at, zone),
                  clock=lambda at: clock(at, day, zone))  # fmt: skip
