"""Signing in and out, and setting a password from a one-time setup link.

A failed sign-in says only "wrong name or password" (an unknown name takes as long as a
known one); after MAX_FAILURES_PER_ACCOUNT failures for a name, or MAX_FAILURES_PER_IP
from an address, within FAILURE_WINDOW, sign-in is refused (429) until the window passes.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog
from aiohttp import web

from dispatch.web.console.access import (
    FAILURE_WINDOW,
    REFUSALS,
    Refused,
    Viewer,
    access,
    sign_in_blocked,
)
from dispatch.web.console.guard import current_viewer
from dispatch.web.console.passwords import (
    PasswordRefused,
    check_new_password,
    hash_password,
    verify_password,
)
from dispatch.web.console.render import render, viewer
from dispatch.web.console.sessions import (
    LOGIN_COOKIE,
    LOGIN_FORM_VALID,
    SESSION_COOKIE,
    cookie_rules,
    digest,
    new_token,
    safe_next,
)
from dispatch.web.context import ctx
from projections.console_accounts import Account

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()
NAME_MAX = 100
WRONG = "Wrong name or password."
BLOCKED = "Too many failed attempts. Wait 15 minutes, or ask your team lead to check your account."
SIGNED_OUT_NOTES = {
    "set": "Your password is set. Sign in with it.",
    "out": "You are signed out.",
}


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


def signed_out_page(
    request: web.Request, template: str, *, status: int = 200, **context: object
) -> web.Response:
    """A signed-out form, with the double-submit token in its cookie and in the form."""
    token = request.cookies.get(LOGIN_COOKIE) or new_token()
    response = render(request, template, status=status, login_csrf=token, **context)
    rules = cookie_rules(ctx(request).settings.public_base_url)
    response.set_cookie(LOGIN_COOKIE, token, **rules.attributes(LOGIN_FORM_VALID))  # type: ignore[arg-type]
    return response


def login_page(
    request: web.Request,
    *,
    status: int = 200,
    message: str | None = None,
    next_path: str | None = None,
) -> web.Response:
    why = request.query.get("why", "")
    note = request.query.get("note", "")
    return signed_out_page(
        request,
        "login.html",
        status=status,
        message=message or REFUSALS.get(why),
        note=SIGNED_OUT_NOTES.get(note),
        next=safe_next(next_path or request.query.get("next")),
    )


@routes.get("/console/login")
async def login_form(request: web.Request) -> web.Response:
    seen = await current_viewer(request)
    if isinstance(seen, Viewer):
        return see_other(safe_next(request.query.get("next")))
    return login_page(request, message=seen.reason if isinstance(seen, Refused) else None)


@routes.post("/console/login")
async def login(request: web.Request) -> web.Response:
    c = ctx(request)
    form = await request.post()
    name = str(form.get("account", "")).strip()[:NAME_MAX]
    password = str(form.get("password", ""))
    next_path = str(form.get("next", ""))
    ip = request.remote or "unknown"
    now = c.clock.now()
    failures = await c.accounts.failures(name, ip, now - FAILURE_WINDOW)

    if sign_in_blocked(failures):
        log.warning(
            "console_sign_in_blocked",
            account_id=name,
            ip=ip,
            failures_for_name=failures.by_account,
            failures_from_ip=failures.by_ip,
        )
        return login_page(request, status=429, message=BLOCKED, next_path=next_path)
    account = await c.accounts.account(name) if name else None
    stored = account.password_hash if account else None
    if not await asyncio.to_thread(verify_password, stored, password) or account is None:
        await c.accounts.record_failure(name, ip, now)
        log.warning("console_sign_in_failed", account_id=name, ip=ip)
        return login_page(request, status=401, message=WRONG, next_path=next_path)
    staff = await c.read_models.staff(account.staff_id) if account.staff_id else None
    seen = access(account, staff, now)
    if isinstance(seen, Refused):
        log.warning("console_access_refused", account_id=name, reason=seen.why)
        return login_page(request, status=403, message=seen.reason, next_path=next_path)
    return await start_session(request, account, next_path, how="password")


async def start_session(
    request: web.Request, account: Account, next_path: str, *, how: str
) -> web.Response:
    """Signed in (by password or by a code): a new session, the name's failures forgiven,
    the cookie set, and on to `next_path` (a console path only)."""
    c = ctx(request)
    now, ip = c.clock.now(), request.remote or "unknown"
    token, lifetime = new_token(), timedelta(hours=c.settings.console_session_hours)
    await c.accounts.open_session(
        session_digest=digest(token),
        account_id=account.account_id,
        csrf_token=new_token(),
        now=now,
        expires_at=now + lifetime,
        ip=ip,
    )
    await c.accounts.clear_failures(account.account_id, now - FAILURE_WINDOW)
    log.info("console_signed_in", account_id=account.account_id, role=account.role, ip=ip,
             how=how)  # fmt: skip
    response = see_other(safe_next(next_path))
    rules = cookie_rules(c.settings.public_base_url)
    response.set_cookie(SESSION_COOKIE, token, **rules.attributes(lifetime))  # type: ignore[arg-type]
    response.del_cookie(LOGIN_COOKIE, path="/")
    return response


@routes.post("/console/logout")
async def logout(request: web.Request) -> web.Response:
    who = viewer(request)
    await ctx(request).accounts.end_session(who.session_digest)
    log.info("console_signed_out", account_id=who.account_id)
    response = see_other("/console/login?note=out")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


async def _link_account(request: web.Request) -> Account | None:
    """The account the setup link in the path names, while the link is valid."""
    c = ctx(request)
    return await c.accounts.by_setup(digest(request.match_info["token"]), c.clock.now())


@routes.get("/console/setup/{token}")
async def setup_form(request: web.Request) -> web.Response:
    account = await _link_account(request)
    if account is None:
        return render(request, "setup_gone.html", status=404)
    return signed_out_page(request, "setup.html", account_id=account.account_id, message=None)


@routes.post("/console/setup/{token}")
async def setup(request: web.Request) -> web.Response:
    c = ctx(request)
    account = await _link_account(request)
    if account is None:
        return render(request, "setup_gone.html", status=404)
    form = await request.post()
    password, again = str(form.get("password", "")), str(form.get("again", ""))
    try:
        check_new_password(password, account_id=account.account_id)
        if password != again:
            raise PasswordRefused("the two passwords are not the same")
    except PasswordRefused as refused:
        return signed_out_page(
            request,
            "setup.html",
            status=400,
            account_id=account.account_id,
            message=f"Not set: {refused}.",
        )
    stored = await asyncio.to_thread(hash_password, password)
    await c.accounts.set_password(account.account_id, stored, c.clock.now())
    log.info("console_password_set", account_id=account.account_id)
    return see_other("/console/login?note=set")
