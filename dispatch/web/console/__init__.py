"""The web console: server-rendered pages for the team on the same aiohttp app as the
webhooks and the API (docs/console.md says how to add a page).

`mount_console(app)` adds its routes, its guard (sessions, CSRF, leavers), its security
headers, its templates and static files (shipped in this package; nothing from a CDN)
and the live board's feed, which ends every open stream when the app shuts down.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from aiohttp import web

from dispatch.web.console import (
    actions,
    auth_pages,
    board,
    dispatch_page,
    huddle,
    rota,
    signin_code,
)
from dispatch.web.console import client as client_page
from dispatch.web.console import review as review_pages
from dispatch.web.console.feed import BoardFeed
from dispatch.web.console.guard import console_guard, security_headers
from dispatch.web.console.render import TEMPLATES, templates
from dispatch.web.context import CONTEXT

STATIC = Path(__file__).parent / "static"
PAGES: tuple[web.RouteTableDef, ...] = (
    auth_pages.routes,
    board.routes,
    actions.routes,
    dispatch_page.routes,
    client_page.routes,
    review_pages.routes,
)
PAGES += (rota.routes, huddle.routes, signin_code.routes)


def mount_console(app: web.Application) -> None:
    app.middlewares.append(console_guard)
    app.on_response_prepare.append(security_headers)
    for routes in PAGES:
        app.add_routes(routes)
    static = app.router.add_static("/console/static", STATIC, append_version=True)
    # The versioned URL hashes the file: once per asset and process.
    app[TEMPLATES] = templates(cache(lambda name: str(static.url_for(filename=name))))
    app[board.FEED] = BoardFeed(app[CONTEXT].console_board.fingerprint)
    app.on_shutdown.append(_end_streams)
    app[signin_code.SENDER] = signin_code.CodeSender()
    app.on_shutdown.append(app[signin_code.SENDER].drain)


async def _end_streams(app: web.Application) -> None:
    app[board.FEED].close()
