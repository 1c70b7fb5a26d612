"""Team practice through the team API: the daily team meeting (POST /api/team/meetings)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import structlog
from aiohttp import web
from pydantic import ConfigDict

from dispatch.team.meeting import MeetingInput, MeetingRefused, meeting_event
from dispatch.web.context import ctx
from dispatch.web.http import ApiError
from dispatch.web.schema import ApiModel, ApiRoutes
from dispatch.web.security import api_caller

log = structlog.get_logger(__name__)
routes = ApiRoutes("team")


class MeetingBody(MeetingInput):
    """The team met: when (default now), who attended, how many clients were reviewed."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class MeetingRecorded(ApiModel):
    """The meeting was spooled (`duplicate`: that day's meeting had been already)."""

    event_id: UUID
    held_on: date
    duplicate: bool


@routes.post("/api/team/meetings", body=MeetingBody, response=MeetingRecorded,
             errors=[404, 422])  # fmt: skip
async def record_meeting(request: web.Request, body: MeetingBody) -> MeetingRecorded:
    """The caller's team held its meeting (once a day; DACTS H3 counts the days).

    422 when an attendee is not a member of the team.
    """
    caller = api_caller(request)
    c = ctx(request)
    try:
        event = await meeting_event(
            c.read_models,
            team_id=caller.team_id,
            meeting=body,
            recorded_by=f"api:{caller.role}:{caller.staff_id or caller.token_hint + '...'}",
            now=c.clock.now(),
        )
    except MeetingRefused as refused:
        raise ApiError(refused.status, refused.message, refused.field) from None
    fresh = await c.spool.record([event])
    held_on = date.fromisoformat(str(event.payload.model_dump(mode="json")["held_on"]))
    log.info("team_meeting_recorded", team_id=caller.team_id, held_on=str(held_on),
             duplicate=not fresh)  # fmt: skip
    return MeetingRecorded(event_id=event.event_id, held_on=held_on, duplicate=not fresh)
