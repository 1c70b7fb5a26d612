"""Signing in with a one-time code by SMS: "send me a code" on the sign-in page.

POST /console/login/code (a staff id) always answers the same page, "if that name has an
account and a phone on the roster, a code is on its way", whether or not it does: no
account is given away. A code (six digits, CODE_VALID, once) goes only to the phone the
staff read model has for an account that may sign in now (not a leaver, not disabled,
not an admin who is on no team's staff), through the same Twilio adapter as pages; the
SMS is sent in the background so that the answer takes as long either way.

POST /console/login/code/check (the staff id and the code) signs in like a password:
the same limits (MAX_FAILURES_PER_ACCOUNT per name, MAX_FAILURES_PER_IP per address, in
FAILURE_WINDOW), where each code asked for and each wrong code counts as a failed
attempt; the access check again (a leaver is refused even with a code); the code is
deleted as it is used, so it works once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import structlog
from aiohttp import web

from dispatch.paging.telephony import TelephonyError
from dispatch.web.console.access import FAILURE_WINDOW, Refused, access, sign_in_blocked
from dispatch.web.console.auth_pages import BLOCKED, NAME_MAX, signed_out_page, start_session
from dispatch.web.console.codes import CODE_VALID, code_matches, code_sms, hash_code, new_code
from dispatch.web.console.sessions import safe_next
from dispatch.web.context import ctx
from projections.console_codes import ConsoleCodes

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()
WRONG_CODE = "That code is wrong, used or expired. Ask for a new one."
SENT = ("If {name} has a console account and a phone on the team's roster, a sign-in code "
        "is on its way to that phone. It works once, for 10 minutes.")  # fmt: skip


class CodeSender:
    """The SMS sends in flight: each its own task, awaited (not cut) at shutdown."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, send: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(send, name="console-code-sms")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, _: web.Application | None = None) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


SENDER: web.AppKey[CodeSender] = web.AppKey("console_code_sender", CodeSender)


@routes.get("/console/login/code")
async def code_form(request: web.Request) -> web.Response:
    return signed_out_page(request, "code_request.html", message=None,
                 next=safe_next(request.query.get("next")))  # fmt: skip


async def _phone_for(request: web.Request, name: str) -> str | None:
    """The roster phone of an account that may sign in now; None for anyone else."""
    c = ctx(request)
    account = await c.accounts.account(name) if name else None
    if account is None or account.staff_id is None:
        return None
    staff = await c.read_models.staff(account.staff_id)
    if isinstance(access(account, staff, c.clock.now()), Refused) or staff is None:
        return None
    return staff.phone or None


async def _send(request: web.Request, name: str, phone: str, code: str) -> None:
    telephony = ctx(request).telephony
    try:
        receipt = await telephony.send_sms(to=phone, body=code_sms(code), status_callback=None,
                                           validity_s=int(CODE_VALID.total_seconds()))  # fmt: skip
        log.info("console_code_sent", account_id=name, sid=receipt.sid)
    except TelephonyError as exc:
        log.error("console_code_not_sent", account_id=name, error=str(exc)[:200])


@routes.post("/console/login/code")
async def send_code(request: web.Request) -> web.Response:
    c = ctx(request)
    form = await request.post()
    name = str(form.get("account", "")).strip()[:NAME_MAX]
    next_path = safe_next(str(form.get("next", "")))
    ip, now = request.remote or "unknown", c.clock.now()
    failures = await c.accounts.failures(name, ip, now - FAILURE_WINDOW)
    if sign_in_blocked(failures):
        log.warning("console_code_blocked", account_id=name, ip=ip)
        return signed_out_page(
            request, "code_request.html", status=429, message=BLOCKED, next=next_path
        )
    await c.accounts.record_failure(name, ip, now)  # every code asked for counts
    code = new_code()
    stored = await asyncio.to_thread(hash_code, name, code)  # the same work for anyone
    phone = await _phone_for(request, name)
    if phone is not None:
        await ConsoleCodes(c.pool).issue(name, stored, now=now, expires_at=now + CODE_VALID,
                                         ip=ip)  # fmt: skip
        request.app[SENDER].start(_send(request, name, phone, code))
    log.info("console_code_asked", account_id=name, ip=ip, sent=phone is not None)
    return signed_out_page(request, "code_enter.html", account=name, next=next_path,
                 said=SENT.format(name=name or "that name"), message=None)  # fmt: skip


@routes.get("/console/login/code/check")
async def code_entry_form(request: web.Request) -> web.Response:
    """The form for a code already received (from the link on the sign-in pages)."""
    name = request.query.get("account", "")[:NAME_MAX]
    return signed_out_page(request, "code_enter.html", account=name, said=None, message=None,
                           next=safe_next(request.query.get("next")))  # fmt: skip


@routes.post("/console/login/code/check")
async def check_code(request: web.Request) -> web.Response:
    c = ctx(request)
    form = await request.post()
    name = str(form.get("account", "")).strip()[:NAME_MAX]
    typed = str(form.get("code", ""))
    next_path = safe_next(str(form.get("next", "")))
    ip, now = request.remote or "unknown", c.clock.now()
    failures = await c.accounts.failures(name, ip, now - FAILURE_WINDOW)

    def again(status: int, message: str) -> web.Response:
        return signed_out_page(request, "code_enter.html", status=status, account=name,
                               next=next_path, said=None, message=message)  # fmt: skip

    if sign_in_blocked(failures):
        log.warning("console_code_blocked", account_id=name, ip=ip)
        return again(429, BLOCKED)
    codes = ConsoleCodes(c.pool)
    stored = await codes.live(name, now) if name else None
    matches = await asyncio.to_thread(code_matches, stored, name, typed)
    account = await c.accounts.account(name) if matches else None
    if not matches or stored is None or account is None or not await codes.use(name, stored):
        await c.accounts.record_failure(name, ip, now)
        log.warning("console_code_wrong", account_id=name, ip=ip)
        return again(401, WRONG_CODE)
    staff = await c.read_models.staff(account.staff_id) if account.staff_id else None
    seen = access(account, staff, now)
    if isinstance(seen, Refused):
        log.warning("console_access_refused", account_id=name, reason=seen.why)
        return again(403, seen.reason)
    return await start_session(request, account, next_path, how="sms_code")
