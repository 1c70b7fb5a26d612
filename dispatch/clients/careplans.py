"""Pure decisions on the care plan under the Care Programme Approach: recorded with a care
coordinator, reviewed (every six months; the huddle board flags an overdue review). The
relapse-prevention plan is a separate thing (dispatch/risk)."""

from __future__ import annotations

from datetime import timedelta

from dispatch.clients.events import CarePlanRecorded, CarePlanReviewed
from dispatch.clients.inputs import CarePlanInput, CarePlanReviewInput
from dispatch.clients.ports import JourneyRefused
from dispatch.clients.rules import Facts, coordinator
from dispatch.events import Envelope, derived_id

CARE_PLAN_REVIEW_INTERVAL = timedelta(days=182)  # the CPA reviews a care plan every six months


def record_care_plan(facts: Facts, plan: CarePlanInput) -> list[Envelope]:
    """CarePlanRecorded, with the care coordinator (given, else the client's)."""
    r = facts.enrolled()
    assert r.team_id is not None
    facts.in_scope((r.team_id,))
    facts.by((r.team_id,))
    team = facts.team(r.team_id, "client_id")
    lead = coordinator(facts, team, plan.care_coordinator_id or r.care_coordinator_id,
                       "care_coordinator_id")  # fmt: skip
    if lead is None:
        raise JourneyRefused("care_coordinator_id", "a care plan names its care coordinator")
    facts.carers(plan.carers_involved, "carers_involved")
    at = facts.when(plan.occurred_at, not_before=r.enrolled_at, before_what="the enrolment")
    payload = CarePlanRecorded(
        client_id=r.client_id,
        team_id=r.team_id,
        care_coordinator_id=lead,
        summary=plan.summary,
        goals=plan.goals,
        client_involved=plan.client_involved,
        carers_involved=plan.carers_involved,
    )
    event_id = derived_id("care-plan", r.client_id, at.isoformat())
    return [facts.event(payload, at=at, event_id=event_id)]


def review_care_plan(facts: Facts, review: CarePlanReviewInput) -> list[Envelope]:
    """CarePlanReviewed: the next review falls due six months on."""
    r = facts.enrolled()
    assert r.team_id is not None
    facts.in_scope((r.team_id,))
    facts.by((r.team_id,))
    if r.care_plan_at is None:
        raise JourneyRefused("client_id", f"{r.client_id!r} has no care plan; record one first")
    facts.carers(review.carers_involved, "carers_involved")
    at = facts.when(review.occurred_at, not_before=r.care_plan_at,
                    before_what="the care plan in force")  # fmt: skip
    payload = CarePlanReviewed(
        client_id=r.client_id,
        team_id=r.team_id,
        note=review.note,
        goals=review.goals,
        client_involved=review.client_involved,
        carers_involved=review.carers_involved,
    )
    event_id = derived_id("care-plan-review", r.client_id, at.isoformat())
    return [facts.event(payload, at=at, event_id=event_id)]
