"""On call now and the rota calendar: GET /console/rota, and POST /console/rota/overrides
for the team's leads (the API's ROTA_EDITORS; an admin counts as a manager).

The page reads what `dispatch oncall` and `dispatch rota show` read (the rota projection,
folded by dispatch.rota). An override from the page is checked exactly as
`POST /api/rota/overrides` checks one: the form becomes the API's JSON body, parsed by the
API's own parser into its OverrideRequest, then the same service call
(dispatch.rota.staff_intake.override) and the same spool. A refusal is shown next to the
field it names and nothing is recorded. Times typed without an offset are the team's
local time. The page waits (REPLY_DECISION_WAIT_S) for the projection to have the
override, so the calendar it returns to shows it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import structlog
from aiohttp import web

from dispatch.rota.events import OverrideScheduled
from dispatch.rota.staff_intake import override
from dispatch.web.changes import checked, spool
from dispatch.web.console.access import Viewer
from dispatch.web.console.render import render, viewer
from dispatch.web.console.rota_view import calendar, input_value, local_input, on_call_now
from dispatch.web.context import ctx
from dispatch.web.http import ApiError
from dispatch.web.rota_api import ROTA_EDITORS, OverrideRequest
from dispatch.web.schema import parse_json

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()
FIELDS = ("layer", "staff_id", "starts_at", "ends_at")
NOT_A_TIME = "is not a date and time (YYYY-MM-DDTHH:MM)"


async def _page(
    request: web.Request,
    who: Viewer,
    *,
    status: int = 200,
    form: dict[str, str] | None = None,
    problem: ApiError | None = None,
) -> web.Response:
    c = ctx(request)
    team_id = who.team_id
    if team_id is None:
        return render(request, "no_team.html", notice=None)
    now = c.clock.now()
    week = await c.read_models.team_rota(team_id, now - timedelta(days=1), now + timedelta(days=8))
    cal = calendar(week, now)
    team = await c.read_models.team(team_id)
    members = [m for m in week.members() if not week.has_left(m.staff_id, now)]
    starts = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    defaults = {"layer": "primary", "staff_id": "",
                "starts_at": input_value(starts, week.time_zone),
                "ends_at": input_value(starts + timedelta(hours=12), week.time_zone)}  # fmt: skip
    notice = await c.accounts.take_notice(who.session_digest)
    return render(
        request,
        "rota.html",
        status=status,
        team_name=team.name if team else team_id,
        now=on_call_now(week, now),
        cal=cal,
        may_edit=who.may(ROTA_EDITORS),
        members=members,
        form=form or defaults,
        problem=problem,
        notice=notice,
    )


@routes.get("/console/rota")
async def rota_page(request: web.Request) -> web.Response:
    return await _page(request, viewer(request))


def override_body(form: dict[str, str], zone: str) -> bytes:
    """The form as the API's JSON body: times without an offset are read in `zone`; an
    empty field is left out (the API's parser names it as missing)."""
    body: dict[str, str] = {}
    for name in FIELDS:
        value = form.get(name, "").strip()
        if not value:
            continue
        if name in ("starts_at", "ends_at"):
            at = local_input(value, zone)
            if at is None:
                raise ApiError(400, NOT_A_TIME, name)
            value = at.isoformat()
        body[name] = value
    return json.dumps(body).encode()


@routes.post("/console/rota/overrides")
async def add_override(request: web.Request) -> web.Response:
    who, c = viewer(request), ctx(request)
    if who.team_id is None or not who.may(ROTA_EDITORS):
        log.warning("console_override_refused", account_id=who.account_id, role=who.role)
        return render(request, "refused.html", status=403)
    posted = await request.post()
    form = {name: str(posted.get(name, "")) for name in FIELDS}
    now = c.clock.now()
    zone = (await c.read_models.team_rota(who.team_id, now, now)).time_zone
    try:
        req = parse_json(OverrideRequest, override_body(form, zone))
        event, _ = await checked(
            override(c.staff_roster, who.team_id, req, now=now, actor=who.audit_name)
        )
    except ApiError as refused:
        log.info("console_override_refused", account_id=who.account_id, field=refused.field,
                 status=refused.status)  # fmt: skip
        return await _page(request, who, status=refused.status, form=form, problem=refused)
    fresh, applied = await spool(request, [event], wait=True)
    payload = event.payload
    assert isinstance(payload, OverrideScheduled)
    log.info("console_override_accepted", team_id=who.team_id, override_id=payload.override_id,
             layer=req.layer, duplicate=not fresh, applied=applied)  # fmt: skip
    person = await c.read_models.staff(req.staff_id)
    name = person.display_name if person else req.staff_id
    period = f"{_short(req.starts_at, zone)} to {_short(req.ends_at, zone)}"
    said = f"Override recorded: {name} covers {req.layer} from {period}."
    if not applied:
        said += " The calendar will show it in a moment; reload."
    await c.accounts.leave_notice(who.session_digest, said)
    return web.Response(status=303, headers={"Location": "/console/rota",
                                             "Cache-Control": "no-store"})  # fmt: skip


def _short(at: datetime, zone: str) -> str:
    return input_value(at, zone).replace("T", " ")
