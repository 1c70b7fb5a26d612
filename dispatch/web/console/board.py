"""The live board: the team's open dispatches, pushed to the page as they change.

GET /console/ renders the board; GET /console/board/events is a server-sent event stream
that sends the re-rendered rows (`event: board`, `id:` the board's fingerprint) whenever
the feed sees the board change; GET /console/board/rows is the same rows for a page
that cannot keep a stream open (the script falls back to polling it). Every rendering of
client data is recorded (ClientRecordsViewed): the page, each changed poll, and on the
stream each client the first time it shows them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import structlog
from aiohttp import web

from dispatch.risk.intake import records_viewed
from dispatch.web.console.access import Viewer
from dispatch.web.console.feed import BoardFeed
from dispatch.web.console.guard import current_viewer
from dispatch.web.console.render import render, render_text, viewer
from dispatch.web.console.views import BoardRow, board_rows, shown_clients
from dispatch.web.context import ctx

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()
FEED: web.AppKey[BoardFeed] = web.AppKey("console_feed", BoardFeed)
KEEPALIVE_S = 10.0


async def record_view(request: web.Request, who: Viewer, view: str, clients: Iterable[str]) -> None:
    """One audit event for a page that showed these clients' data (none shown: none)."""
    client_ids = sorted(set(clients))
    if not client_ids or who.team_id is None:
        return
    c = ctx(request)
    event = records_viewed(
        team_id=who.team_id,
        viewer=who.audit_name,
        view=view,
        client_ids=client_ids,
        now=c.clock.now(),
    )
    await c.spool.record([event])


async def _rows(request: web.Request, team_id: str) -> list[BoardRow]:
    c = ctx(request)
    return board_rows(await c.console_board.board(team_id), c.clock.now())


def _rows_html(request: web.Request, rows: list[BoardRow]) -> str:
    return render_text(request, "_rows.html", rows=rows)


@routes.get("/console")
async def console_root(_: web.Request) -> web.Response:
    return web.Response(status=308, headers={"Location": "/console/"})


@routes.get("/console/")
@routes.get("/console/board")
async def board_page(request: web.Request) -> web.Response:
    who = viewer(request)
    c = ctx(request)
    notice = await c.accounts.take_notice(who.session_digest)
    if who.team_id is None:
        return render(request, "no_team.html", notice=notice)
    version = await c.console_board.fingerprint(who.team_id)
    rows = await _rows(request, who.team_id)
    await record_view(request, who, "console:board", shown_clients(rows))
    team = await c.read_models.team(who.team_id)
    return render(
        request,
        "board.html",
        rows=rows,
        version=version,
        notice=notice,
        team_name=team.name if team else who.team_id,
    )


@routes.get("/console/board/rows")
async def board_rows_fragment(request: web.Request) -> web.Response:
    """The rows alone; 204 when the board is still the version the page has (`since`)."""
    who = viewer(request)
    if who.team_id is None:
        return web.Response(status=204)
    c = ctx(request)
    version = await c.console_board.fingerprint(who.team_id)
    if version == request.query.get("since"):
        return web.Response(status=204, headers={"Cache-Control": "no-store"})
    rows = await _rows(request, who.team_id)
    await record_view(request, who, "console:board", shown_clients(rows))
    return web.Response(
        text=_rows_html(request, rows),
        content_type="text/html",
        headers={"Cache-Control": "no-store", "X-Board-Version": version},
    )


def sse(event: str, event_id: str, data: str) -> bytes:
    """One server-sent event; every line of `data` on a `data:` line of its own."""
    lines = [f"event: {event}", f"id: {event_id}"]
    lines += [f"data: {line}" for line in data.splitlines() or [""]]
    return ("\n".join(lines) + "\n\n").encode()


@routes.get("/console/board/events")
async def board_events(request: web.Request) -> web.StreamResponse:
    """The board's changes as server-sent events, while the session stays valid."""
    who = viewer(request)
    team_id = who.team_id
    if team_id is None:
        return web.Response(status=204)
    feed = request.app[FEED]
    seen = request.headers.get("Last-Event-ID") or request.query.get("since", "")
    stream = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    await stream.prepare(request)
    await stream.write(b"retry: 2000\n\n")
    recorded: set[str] = set()
    with contextlib.suppress(ConnectionResetError):
        async with feed.follow(team_id) as watch:
            while not feed.closed:
                version = await feed.next_version(watch, seen, KEEPALIVE_S)
                again = await current_viewer(request)  # a leaver's screen goes dark at once
                if not isinstance(again, Viewer) or again.team_id != team_id or feed.closed:
                    break
                if version == seen:
                    await stream.write(b": keep-alive\n\n")
                    continue
                rows = await _rows(request, team_id)
                new = shown_clients(rows) - recorded
                await record_view(request, who, "console:board", new)
                recorded |= new
                await stream.write(sse("board", version, _rows_html(request, rows)))
                seen = version
    return stream
