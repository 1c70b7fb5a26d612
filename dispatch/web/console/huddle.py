"""The huddle board page: GET /console/huddle, the same board as `dispatch huddle --team T`
and GET /api/huddle (the team's clients by risk, with reasons, flags, the last 24 h and
the team's notices), and POST /console/huddle/meeting, the same path as
POST /api/team/meetings (TeamMeetingHeld, once per local day; any member of the team).

Viewing the board is recorded exactly as the API records it: one ClientRecordsViewed with
view "huddle_board" naming every client shown, spooled before the page is sent.
"""

from __future__ import annotations

import json
from datetime import date
from zoneinfo import ZoneInfo

import structlog
from aiohttp import web

from dispatch.risk.board import ago, flag_list
from dispatch.risk.intake import records_viewed
from dispatch.team.meeting import MeetingRefused, meeting_event
from dispatch.web.console.render import render, viewer
from dispatch.web.context import ctx
from dispatch.web.http import ApiError
from dispatch.web.schema import parse_json
from dispatch.web.team_api import MeetingBody
from projections.team_meetings import last_meeting
from projections.team_notices import team_notices

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()


@routes.get("/console/huddle")
async def huddle_page(request: web.Request) -> web.Response:
    who, c = viewer(request), ctx(request)
    notice = await c.accounts.take_notice(who.session_digest)
    if who.team_id is None:
        return render(request, "no_team.html", notice=notice)
    now = c.clock.now()
    rows = await c.risk_queries.huddle(who.team_id, now)
    read = records_viewed(team_id=who.team_id, viewer=who.audit_name, view="huddle_board",
                          client_ids=[r.client_id for r in rows], now=now)  # fmt: skip
    await c.spool.record([read])
    log.info("huddle_viewed", team_id=who.team_id, viewer=who.audit_name, clients=len(rows))
    notices = await team_notices(c.staff_roster, c.carers, who.team_id, now)
    team = await c.read_models.team(who.team_id)
    zone = ZoneInfo(team.time_zone if team else "UTC")
    held = await last_meeting(c.pool, who.team_id)
    today = now.astimezone(zone).date()
    week = await c.read_models.team_rota(who.team_id, now, now)
    members = [m for m in week.members() if not week.has_left(m.staff_id, now)]
    return render(
        request,
        "huddle.html",
        team_name=team.name if team else who.team_id,
        as_of=f"{now.astimezone(zone):%a %d %b %H:%M} ({zone.key})",
        clients=[(r, flag_list(r, now), ago(r.last_face_to_face_at, now)) for r in rows],
        notices=notices,
        held_today=held == today,
        last_held=held,
        members=members,
        notice=notice,
    )


def meeting_body(attendees: list[str], reviewed: str) -> bytes:
    """The form as the API's JSON body (clients reviewed left out when empty; a value that
    is not a whole number is sent as typed, for the API's parser to name)."""
    body: dict[str, object] = {"attendees": attendees}
    text = reviewed.strip()
    if text:
        body["clients_reviewed"] = int(text) if text.isdigit() else text
    return json.dumps(body).encode()


@routes.post("/console/huddle/meeting")
async def meeting_held(request: web.Request) -> web.Response:
    who, c = viewer(request), ctx(request)
    if who.team_id is None:
        return render(request, "refused.html", status=403)
    form = await request.post()
    attendees = [str(a) for a in form.getall("attendees", [])]
    try:
        body = parse_json(MeetingBody, meeting_body(attendees, str(form.get("reviewed", ""))))
        event = await meeting_event(c.read_models, team_id=who.team_id, meeting=body,
                                    recorded_by=who.audit_name, now=c.clock.now())  # fmt: skip
    except MeetingRefused as refused:
        said = f"Not recorded: {refused.field}: {refused.message}."
    except ApiError as refused:  # the API's parser, naming the field
        said = f"Not recorded: {refused.field}: {refused.message}."
    else:
        fresh = await c.spool.record([event])
        held_on = date.fromisoformat(str(event.payload.model_dump(mode="json")["held_on"]))
        log.info("team_meeting_recorded", team_id=who.team_id, held_on=str(held_on),
                 duplicate=not fresh, by=who.audit_name)  # fmt: skip
        said = (f"Recorded: the meeting of {held_on:%a %d %b} was held." if fresh
                else f"The meeting of {held_on:%a %d %b} was already recorded.")  # fmt: skip
    await c.accounts.leave_notice(who.session_digest, said)
    return web.Response(status=303, headers={"Location": "/console/huddle",
                                             "Cache-Control": "no-store"})  # fmt: skip
