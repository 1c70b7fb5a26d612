"""The console's guard, run on every request under /console and /d/: the session is read
and the account checked again each time (a leaver or a disabled account is out at once),
every POST must carry its CSRF token, and every answer carries the security headers.

Signed-out forms (sign in, set a password) are protected by a double-submit token: a random
value in the `console_login` cookie that the form must repeat.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

import structlog
from aiohttp import web

from dispatch.web.console.access import Refused, Viewer, access
from dispatch.web.console.render import VIEWER, render
from dispatch.web.console.sessions import (
    CSRF_FIELD,
    CSRF_HEADER,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    csrf_matches,
    digest,
)
from dispatch.web.context import ctx

log = structlog.get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CONSOLE_PATHS = ("/console", "/d/")
PUBLIC_PATHS = ("/console/login", "/console/setup/", "/console/static/")
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def is_console(path: str) -> bool:
    return path == "/console" or path.startswith(("/console/", "/d/"))


async def current_viewer(request: web.Request) -> Viewer | Refused | None:
    """Who this request's session cookie signs in, checked now; None without a session."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    c = ctx(request)
    now = c.clock.now()
    session = await c.accounts.session(digest(token), now)
    if session is None:
        return None
    account = session.account
    staff = await c.read_models.staff(account.staff_id) if account.staff_id else None
    seen = access(account, staff, now)
    if isinstance(seen, Refused):  # refused on every request, so every page can say why
        log.warning("console_access_refused", account_id=account.account_id, reason=seen.reason)
        return seen
    team_id, name = seen
    return Viewer(
        account_id=account.account_id,
        staff_id=account.staff_id,
        team_id=team_id,
        role=account.role,
        display_name=name,
        csrf_token=session.csrf_token,
        session_digest=session.session_digest,
    )


def _to_sign_in(request: web.Request, refused: Refused | None) -> web.StreamResponse:
    """A page asks for the sign-in page; a form, a fragment or the live feed gets 401.

    A refused session keeps its cookie: it opens nothing (it is refused on every request),
    and it lets every later request, and the sign-in page itself, say why. Deleting it made
    the reason a race: the board's script and a reload, or two tabs, both asking at once,
    and the one that went second found no session and no reason."""
    wants_page = request.method == "GET" and "text/html" in request.headers.get("Accept", "")
    if not wants_page:
        reason = refused.reason if refused else "Sign in again."
        return web.Response(status=401, text=reason, headers={"Cache-Control": "no-store"})
    query = {"next": request.path_qs} | ({"why": refused.why} if refused else {})
    response = web.HTTPSeeOther(f"/console/login?{urlencode(query)}")
    if refused is None:
        response.del_cookie(SESSION_COOKIE, path="/")
    return response


async def _presented_csrf(request: web.Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        value = (await request.post()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def refused_form(request: web.Request) -> web.Response:
    log.warning("console_form_refused", path=request.path, reason="csrf")
    return render(request, "refused.html", status=403)


@web.middleware
async def console_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not is_console(request.path) or request.match_info.http_exception:
        return await handler(request)
    public = request.path.startswith(PUBLIC_PATHS)
    if not public:
        seen = await current_viewer(request)
        if not isinstance(seen, Viewer):
            return _to_sign_in(request, seen)
        request[VIEWER] = seen
    if request.method == "POST":
        expected = request.cookies.get(LOGIN_COOKIE) if public else request[VIEWER].csrf_token
        if not csrf_matches(expected, await _presented_csrf(request)):
            return refused_form(request)
    return await handler(request)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: the console's pages (streams included) get the headers; its
    static files (versioned URLs) may be cached."""
    if is_console(request.path):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.path.startswith("/console/static/"):
            response.headers["Cache-Control"] = "public, max-age=86400"
