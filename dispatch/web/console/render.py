"""Pages from Jinja2 templates shipped in this package (templates/), escaped by default.

The environment is built when the console is mounted (nothing at import time) and kept on
the app. Every page gets `viewer`, `csrf` (the token its forms carry) and `notice`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jinja2
from aiohttp import web

from dispatch.web.console.access import LEADS, Viewer
from dispatch.web.console.sessions import CSRF_FIELD, new_token


@dataclass(frozen=True)
class NavItem:
    """A link of the console's top bar, shown to those whose API role is in `roles`
    (empty: everyone signed in). A new page adds itself to NAV."""

    path: str
    label: str
    roles: frozenset[str] = frozenset()

    def shown_to(self, who: Viewer) -> bool:
        return not self.roles or who.may(self.roles)


NAV: tuple[NavItem, ...] = (NavItem("/console/", "Live board"),)
NAV += (NavItem("/console/rota", "On call"), NavItem("/console/huddle", "Huddle"))
NAV += (NavItem("/console/review", "Incident review", LEADS),)
NAV += (NavItem("/api/docs", "API docs"),)
TEMPLATES: web.AppKey[jinja2.Environment] = web.AppKey("console_templates", jinja2.Environment)
VIEWER: web.RequestKey[Viewer] = web.RequestKey("console_viewer", Viewer)


def templates(static_url: Callable[[str], str]) -> jinja2.Environment:
    """The console's templates; `static(name)` in a template is the asset's versioned URL
    and `nonce()` a fresh random value (a form's request id)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dispatch.web.console", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(static=static_url, nonce=lambda: new_token()[:22])
    return env


def signed_in(request: web.Request) -> Viewer | None:
    """The request's checked viewer (set by the console guard), or None on public pages."""
    return request.get(VIEWER)


def viewer(request: web.Request) -> Viewer:
    """The signed-in viewer of a page that requires one (the guard made sure)."""
    return request[VIEWER]


def render_text(request: web.Request, template: str, **context: Any) -> str:
    who = signed_in(request)
    nav = [item for item in NAV if who and item.shown_to(who)]
    base = {"viewer": who, "csrf": who.csrf_token if who else "", "csrf_field": CSRF_FIELD,
            "notice": None, "wall": request.query.get("wall") == "1", "nav": nav,
            "path": request.path}  # fmt: skip
    page: str = request.app[TEMPLATES].get_template(template).render({**base, **context})
    return page


def render(
    request: web.Request, template: str, *, status: int = 200, **context: Any
) -> web.Response:
    """A whole page (or a fragment) as text/html; never cached (pages may show clients)."""
    return web.Response(
        text=render_text(request, template, **context),
        status=status,
        content_type="text/html",
        headers={"Cache-Control": "no-store"},
    )
