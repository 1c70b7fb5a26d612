"""One dispatch as a responder opens it from the page they got: /d/<code>, behind sign-in.

It shows what is needed to act and nothing more: the dispatch (risk, reason, who called),
the client's name, numbers and preferences, their risk and the key facts of their
relapse-prevention plan, and the buttons. Opening it is recorded as a read of the client's
record (ClientRecordsViewed) before the page is sent. Another team's code is "not found".
"""

from __future__ import annotations

from aiohttp import web

from dispatch.crisis.codes import normalise_code
from dispatch.web.console.board import record_view
from dispatch.web.console.render import render, viewer
from dispatch.web.console.views import board_rows
from dispatch.web.context import ctx
from dispatch.web.paged_dispatch import paged_dispatch

routes = web.RouteTableDef()


@routes.get("/d/{code}")
async def dispatch_page(request: web.Request) -> web.Response:
    who, c = viewer(request), ctx(request)
    code = normalise_code(request.match_info["code"])
    row = await paged_dispatch(c, code, team_id=who.team_id) if who.team_id else None
    if row is None:
        return render(request, "not_found.html", status=404, code=code)
    facts = await c.console_board.client_facts(row.client_id) if row.client_id else None
    await record_view(request, who, f"console:dispatch:{row.short_code}",
                      [row.client_id] if row.client_id else [])  # fmt: skip
    shown = board_rows(await c.console_board.one(row), c.clock.now())[0]
    notice = await c.accounts.take_notice(who.session_digest)
    return render(request, "dispatch.html", row=shown, facts=facts, notice=notice,
                  resolved=row.status == "resolved", outcome=row.outcome)  # fmt: skip
