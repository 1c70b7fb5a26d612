"""Pure decisions on a client's place on a caseload: enrolment, transfer to another team,
discharge, and quick re-referral after a discharge (history kept, back in one step)."""

from __future__ import annotations

from dispatch.clients.events import (
    ClientDischarged,
    ClientEnrolled,
    ClientReReferred,
    ClientTransferRequested,
)
from dispatch.clients.inputs import DischargeInput, EnrolInput, ReReferralInput, TransferInput
from dispatch.clients.ports import JourneyRefused
from dispatch.clients.rules import Facts, coordinator, source_refusal, target_days
from dispatch.events import Envelope, derived_id


def enrol(facts: Facts, team_id: str, enrolment: EnrolInput) -> list[Envelope]:
    """ClientEnrolled with the team's contact target. An Assertive Outreach team enrols only
    a client whose referral to it was accepted."""
    r = facts.record
    team = facts.team(team_id, "team_id")
    facts.by((team.team_id,))
    facts.not_enrolled(team.team_id)
    ref = r.referral
    if ref is not None and (ref.team_id != team.team_id or ref.status != "accepted"):
        ref = None
    if team.service_model == "AOT" and ref is None:
        raise JourneyRefused(
            "client_id",
            f"Assertive Outreach is referral-only: accept a referral of {r.client_id!r} "
            f"to {team.team_id!r} first",
        )
    name = enrolment.display_name or (ref.display_name if ref else None) or r.display_name
    if name is None:
        raise JourneyRefused("display_name", "name the client (no referral names them)")
    lead = coordinator(facts, team, enrolment.care_coordinator_id, "care_coordinator_id")
    after = [t for t in (ref.received_at if ref else None, r.discharged_at) if t is not None]
    at = facts.when(enrolment.occurred_at, not_before=max(after, default=None),
                    before_what="the referral or the last discharge")  # fmt: skip
    phones = enrolment.phones
    payload = ClientEnrolled(
        client_id=r.client_id,
        team_id=team.team_id,
        display_name=name,
        phone=phones[0] if phones else None,
        other_phones=phones[1:],
        preferred_gender=enrolment.preferred_gender,
        language=enrolment.language,
        care_coordinator_id=lead,
        cultural_needs=enrolment.cultural_needs,
        contact_target_days=target_days(team.service_model),
        referral_id=ref.referral_id if ref else None,
    )
    event_id = derived_id("enrolled", r.client_id, team.team_id, at.isoformat())
    return [facts.event(payload, at=at, event_id=event_id)]


def transfer(facts: Facts, move: TransferInput) -> list[Envelope]:
    """ClientTransferRequested: the old team keeps contact until the new team's first
    face-to-face visit completes the hand-off (TransferCompleted)."""
    r = facts.enrolled()
    assert r.team_id is not None
    facts.in_scope((r.team_id,))
    facts.by((r.team_id,))
    if r.transfer is not None:
        raise JourneyRefused(
            "client_id",
            f"a transfer to {r.transfer.to_team_id!r} is pending since "
            f"{r.transfer.requested_at:%Y-%m-%d}; it completes at that team's first visit",
        )
    to = facts.team(move.to_team_id, "to_team_id")
    if to.team_id == r.team_id:
        raise JourneyRefused("to_team_id", f"{r.client_id!r} is on {to.team_id!r} already")
    lead = None
    if move.care_coordinator_id is not None:
        lead = facts.member(move.care_coordinator_id, (to.team_id,), "care_coordinator_id")
    at = facts.when(move.occurred_at, not_before=r.enrolled_at, before_what="the enrolment")
    payload = ClientTransferRequested(
        client_id=r.client_id,
        from_team_id=r.team_id,
        to_team_id=to.team_id,
        care_coordinator_id=lead.staff_id if lead else None,
        contact_target_days=target_days(to.service_model),
        reason=move.reason,
    )
    event_id = derived_id("transfer", r.client_id, to.team_id, at.isoformat())
    return [facts.event(payload, at=at, event_id=event_id)]


def discharge(facts: Facts, leaving: DischargeInput) -> list[Envelope]:
    """ClientDischarged, recording who planned it: the client, and consented carers."""
    r = facts.enrolled()
    assert r.team_id is not None
    facts.in_scope((r.team_id,))
    facts.by((r.team_id,))
    facts.carers(leaving.carers_involved, "carers_involved")
    at = facts.when(leaving.occurred_at, not_before=r.enrolled_at, before_what="the enrolment")
    payload = ClientDischarged(
        client_id=r.client_id,
        team_id=r.team_id,
        reason=leaving.reason,
        planned=leaving.planned,
        client_involved=leaving.client_involved,
        carers_involved=leaving.carers_involved,
    )
    event_id = derived_id("discharged", r.client_id, r.team_id, at.isoformat())
    return [facts.event(payload, at=at, event_id=event_id)]


def re_refer(facts: Facts, back: ReReferralInput) -> list[Envelope]:
    """ClientReReferred: a discharged client back on their last team's caseload in one step,
    with their care coordinator unless another is named."""
    r = facts.record
    if r.status != "discharged" or r.team_id is None:
        where = "never discharged" if r.status == "none" else f"on the caseload of {r.team_id!r}"
        raise JourneyRefused("client_id", f"{r.client_id!r} is not discharged ({where})")
    facts.in_scope((r.team_id,))
    facts.by((r.team_id,))
    team = facts.team(r.team_id, "client_id")
    source_refusal(team.service_model, back.source, back.source_team)
    wanted = back.care_coordinator_id or r.care_coordinator_id
    lead = coordinator(facts, team, wanted, "care_coordinator_id")
    at = facts.when(back.occurred_at, not_before=r.discharged_at, before_what="the discharge")
    payload = ClientReReferred(
        client_id=r.client_id,
        team_id=team.team_id,
        source=back.source,
        source_team=back.source_team,
        reason=back.reason,
        care_coordinator_id=lead,
        contact_target_days=target_days(team.service_model),
    )
    event_id = derived_id("re-referred", r.client_id, team.team_id, at.isoformat())
    return [facts.event(payload, at=at, event_id=event_id)]
