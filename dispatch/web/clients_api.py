"""Client journey endpoints of the team-scoped API: referrals, enrolment, transfer,
discharge, re-referral, contacts and the care plan, each the same change as its command
(dispatch/clients/service.py), made as the token's staff member; and the team's contacts
per staff member."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from uuid import UUID

import structlog
from aiohttp import web
from pydantic import AwareDatetime, ConfigDict, Field

from dispatch.clients.inputs import (
    CarePlanInput,
    CarePlanReviewInput,
    ContactInput,
    DeclineInput,
    DischargeInput,
    EnrolInput,
    JourneyInput,
    ReferralInput,
    ReReferralInput,
    TransferInput,
)
from dispatch.clients.ports import JourneyRefused
from dispatch.clients.service import JourneyService, Recorded
from dispatch.risk.ports import StaffContacts
from dispatch.web.context import ctx
from dispatch.web.http import ApiError
from dispatch.web.schema import ApiModel, ApiRoutes
from dispatch.web.security import api_caller

log = structlog.get_logger(__name__)
routes = ApiRoutes("clients")
STRICT = ConfigDict(strict=True, extra="forbid", frozen=True)
ERRORS = (403, 404)
Change = Callable[[JourneyService, str, str, str], Awaitable[Recorded]]


class ReferralBody(ReferralInput):
    model_config = STRICT


class DecisionBody(JourneyInput):
    """When the referral was accepted (default now)."""

    model_config = STRICT


class DeclineBody(DeclineInput):
    model_config = STRICT


class EnrolBody(EnrolInput):
    model_config = STRICT


class TransferBody(TransferInput):
    model_config = STRICT


class DischargeBody(DischargeInput):
    model_config = STRICT


class ReReferralBody(ReReferralInput):
    model_config = STRICT


class ContactBody(ContactInput):
    model_config = STRICT


class CarePlanBody(CarePlanInput):
    model_config = STRICT


class CarePlanReviewBody(CarePlanReviewInput):
    model_config = STRICT


class RecordedEvent(ApiModel):
    event_id: UUID
    type: str


class JourneyRecorded(ApiModel):
    """The change's events, spooled for the broker (`duplicate`: recorded before)."""

    events: list[RecordedEvent]
    duplicate: bool


async def _change(request: web.Request, what: str, change: Change) -> JourneyRecorded:
    """Make a change as the token's staff member in the token's team; a refusal is the
    API's error naming the field, and nothing is recorded."""
    caller = api_caller(request)
    client_id = request.match_info["client_id"]
    if caller.staff_id is None:
        raise ApiError(403, "only a token naming a staff member may record this", "Authorization")
    try:
        done = await change(ctx(request).journey, client_id, caller.team_id, caller.staff_id)
    except JourneyRefused as refusal:
        log.info("journey_change_refused", change=what, client_id=client_id,
                 field=refusal.field, status=refusal.status)  # fmt: skip
        if refusal.field == "by":  # the token's own staff member is not of this team
            raise ApiError(403, refusal.message, "Authorization") from None
        raise ApiError(refusal.status, refusal.message, refusal.field) from None
    log.info("journey_change_recorded", change=what, client_id=client_id,
             events=[e.type for e in done.events], duplicate=not done.fresh)  # fmt: skip
    return JourneyRecorded(
        events=[RecordedEvent(event_id=e.event_id, type=e.type) for e in done.events],
        duplicate=not done.fresh,
    )


@routes.post("/api/clients/{client_id}/referral", body=ReferralBody, response=JourneyRecorded,
             errors=ERRORS)  # fmt: skip
async def receive_referral(request: web.Request, body: ReferralBody) -> JourneyRecorded:
    """A referral of the client to the caller's team (`ReferralReceived`). An Assertive
    Outreach team takes referrals only from a community mental health team (`cmht`) or
    another mental-health team (`mental_health_team`), naming it in `source_team`."""
    return await _change(
        request, "referral", lambda j, c, team, by: j.receive_referral(c, team, body, actor=by)
    )


@routes.post("/api/clients/{client_id}/referral/accept", body=DecisionBody,
             response=JourneyRecorded, errors=ERRORS)  # fmt: skip
async def accept_referral(request: web.Request, body: DecisionBody) -> JourneyRecorded:
    """Accept the client's open referral to the caller's team (`ReferralAccepted`)."""
    return await _change(
        request,
        "referral_accept",
        lambda j, c, team, by: j.accept_referral(c, body, actor=by, scope=team),
    )


@routes.post("/api/clients/{client_id}/referral/decline", body=DeclineBody,
             response=JourneyRecorded, errors=ERRORS)  # fmt: skip
async def decline_referral(request: web.Request, body: DeclineBody) -> JourneyRecorded:
    """Decline the client's open referral, with the reason (`ReferralDeclined`)."""
    return await _change(
        request,
        "referral_decline",
        lambda j, c, team, by: j.decline_referral(c, body, actor=by, scope=team),
    )


@routes.post("/api/clients/{client_id}/enrolment", body=EnrolBody, response=JourneyRecorded,
             errors=ERRORS)  # fmt: skip
async def enrol(request: web.Request, body: EnrolBody) -> JourneyRecorded:
    """Put the client on the caller's team's caseload (`ClientEnrolled`, with the team's
    contact target); ICM and Assertive Outreach teams name a `care_coordinator_id`."""
    return await _change(
        request, "enrolment", lambda j, c, team, by: j.enrol(c, team, body, actor=by)
    )


@routes.post("/api/clients/{client_id}/transfer", body=TransferBody, response=JourneyRecorded,
             errors=ERRORS)  # fmt: skip
async def transfer(request: web.Request, body: TransferBody) -> JourneyRecorded:
    """Ask another team to take the client over (`ClientTransferRequested`); the caller's
    team keeps contact until the new team's first face-to-face visit (`TransferCompleted`)."""
    return await _change(
        request, "transfer", lambda j, c, team, by: j.transfer(c, body, actor=by, scope=team)
    )


@routes.post("/api/clients/{client_id}/team-discharge", body=DischargeBody,
             response=JourneyRecorded, errors=ERRORS)  # fmt: skip
async def discharge(request: web.Request, body: DischargeBody) -> JourneyRecorded:
    """Discharge the client from the caller's team (`ClientDischarged`), recording who planned
    it: the client, and carers the client consents to share with. (A hospital discharge is
    `/discharge`.)"""
    return await _change(
        request, "discharge", lambda j, c, team, by: j.discharge(c, body, actor=by, scope=team)
    )


@routes.post("/api/clients/{client_id}/re-referral", body=ReReferralBody,
             response=JourneyRecorded, errors=ERRORS)  # fmt: skip
async def re_refer(request: web.Request, body: ReReferralBody) -> JourneyRecorded:
    """A discharged client back on the caller's team's caseload in one step
    (`ClientReReferred`); their history stays."""
    return await _change(
        request, "re_referral", lambda j, c, team, by: j.re_refer(c, body, actor=by, scope=team)
    )


@routes.post("/api/clients/{client_id}/contacts", body=ContactBody, response=JourneyRecorded,
             errors=ERRORS)  # fmt: skip
async def record_contact(request: web.Request, body: ContactBody) -> JourneyRecorded:
    """A contact with the client (`ContactRecorded`) by one or several staff (each counts it).

    A face-to-face contact ends a crisis hold and closes open outreach tasks and post-crisis
    follow-ups; a phone contact closes follow-ups. During a transfer either team may record;
    the new team's first visit completes the transfer. `carer_id` names a carer who took
    part (refused unless the client's consent to share with them is in force)."""
    return await _change(
        request, "contact", lambda j, c, team, by: j.contact(c, body, actor=by, scope=team)
    )


@routes.post("/api/clients/{client_id}/care-plan", body=CarePlanBody, response=JourneyRecorded,
             errors=ERRORS)  # fmt: skip
async def record_care_plan(request: web.Request, body: CarePlanBody) -> JourneyRecorded:
    """The client's care plan under the Care Programme Approach (`CarePlanRecorded`)."""
    return await _change(
        request, "care_plan", lambda j, c, team, by: j.care_plan(c, body, actor=by, scope=team)
    )


@routes.post("/api/clients/{client_id}/care-plan/review", body=CarePlanReviewBody,
             response=JourneyRecorded, errors=ERRORS)  # fmt: skip
async def review_care_plan(request: web.Request, body: CarePlanReviewBody) -> JourneyRecorded:
    """A review of the care plan (`CarePlanReviewed`); the next is due six months on."""
    return await _change(
        request,
        "care_plan_review",
        lambda j, c, team, by: j.care_plan_review(c, body, actor=by, scope=team),
    )


class ContactsQuery(ApiModel):
    since: AwareDatetime | None = Field(default=None, description="default: 7 days before until")
    until: AwareDatetime | None = Field(default=None, description="default: now")


class ContactCounts(ApiModel):
    """Each member of the team's contacts in [since, until); a joint visit counts for each."""

    team_id: str
    since: datetime
    until: datetime
    staff: list[StaffContacts]


@routes.get("/api/contacts", query=ContactsQuery, response=ContactCounts)
async def contacts_by_staff(request: web.Request, query: ContactsQuery) -> ContactCounts:
    """Contacts per staff member of the caller's team (default: the last 7 days)."""
    caller = api_caller(request)
    until = query.until or ctx(request).clock.now()
    since = query.since or until - timedelta(days=7)
    if since >= until:
        raise ApiError(400, "must be before until", "since")
    counts = await ctx(request).risk_queries.contacts_by_staff(caller.team_id, since, until)
    return ContactCounts(team_id=caller.team_id, since=since, until=until, staff=counts)
