"""One client's page: /console/clients/<client_id>, reached from the live board and from a
dispatch's page. Team-scoped: a client of another team (or none) is "not found" and
nothing of them is read. Opening it is recorded as a read of the client's record
(ClientRecordsViewed, `console:client`) before the page is sent."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiohttp import web

from dispatch.web.console.board import record_view
from dispatch.web.console.client_view import RISK_WINDOW, client_page
from dispatch.web.console.render import render, viewer
from dispatch.web.context import ctx
from projections.client_page import ClientPageQueries
from projections.review_queries import ReviewQueries

routes = web.RouteTableDef()
HISTORY_TYPES = ["RiskLevelChanged", "ContactRecorded"]


@routes.get("/console/clients/{client_id}")
async def client_record(request: web.Request) -> web.Response:
    who, c = viewer(request), ctx(request)
    client_id = request.match_info["client_id"]
    home = await c.carers.client_team(client_id)
    mine = who.team_id is not None and home == who.team_id  # decided before any other read
    facts = await c.console_board.client_facts(client_id) if mine else None
    if who.team_id is None or facts is None:
        return render(request, "not_in_team.html", status=404,
                      what=f"There is no client {client_id} in your team.")  # fmt: skip
    now = c.clock.now()
    team = await c.read_models.team(who.team_id)
    zone = ZoneInfo(team.time_zone if team else "UTC")
    # History: the risk before the window is the last change before it (hence from the start).
    history = await ReviewQueries(c.pool).about_clients([client_id], None, now, HISTORY_TYPES)
    carers = [(row, await c.carers.consent(client_id, row.carer_id))
              for row in await c.carers.carers_of(client_id)]  # fmt: skip
    staff = await c.read_models.team_staff(who.team_id)
    scores = await c.risk_queries.current_scores([client_id], now)
    shown = client_page(
        facts,
        score=scores.get(client_id),
        history=history,
        plans=await ClientPageQueries(c.pool).plans(client_id),
        carers=carers,
        names={s.staff_id: s.display_name for s in staff},
        now=now,
        zone=zone,
    )
    await record_view(request, who, "console:client", [client_id])
    return render(request, "client.html", page=shown, window_days=RISK_WINDOW.days)
