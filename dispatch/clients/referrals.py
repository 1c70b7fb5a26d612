"""Pure decisions on referrals: received, accepted, declined. Assertive Outreach takes
referrals from community mental health teams and other mental-health teams only.

Each decision reads the client's record and the facts loaded for it, and either returns
the events to record or raises JourneyRefused naming the field; it records nothing itself.
Ids derive from what was decided, so sending the same change twice records it once."""

from __future__ import annotations

from dispatch.clients.events import ReferralAccepted, ReferralDeclined, ReferralReceived
from dispatch.clients.inputs import DeclineInput, JourneyInput, ReferralInput
from dispatch.clients.ports import JourneyRefused
from dispatch.clients.record import Referral
from dispatch.clients.rules import Facts, source_refusal
from dispatch.events import Envelope, derived_id


def receive_referral(facts: Facts, team_id: str, referral: ReferralInput) -> list[Envelope]:
    """ReferralReceived for a client not on any caseload and with no referral pending."""
    r = facts.record
    team = facts.team(team_id, "team_id")
    facts.by((team.team_id,))
    facts.not_enrolled(team.team_id)
    pending = r.referral
    if pending is not None and pending.status in ("open", "accepted"):
        raise JourneyRefused(
            "client_id",
            f"{r.client_id!r} has a referral to team {pending.team_id!r} that is "
            f"{pending.status}; {'decide it' if pending.status == 'open' else 'enrol them'} first",
        )
    source_refusal(team.service_model, referral.source, referral.source_team)
    at = facts.when(referral.occurred_at)
    referral_id = derived_id("referral", r.client_id, team.team_id, at.isoformat())
    payload = ReferralReceived(
        referral_id=referral_id,
        client_id=r.client_id,
        team_id=team.team_id,
        display_name=referral.display_name,
        source=referral.source,
        source_team=referral.source_team,
        criteria_met=referral.criteria_met,
        note=referral.note,
    )
    return [facts.event(payload, at=at, event_id=derived_id(referral_id, "received"))]


def _open_referral(facts: Facts) -> Referral:
    ref = facts.record.referral
    if ref is None or ref.status != "open":
        facts.in_scope(() if ref is None else (ref.team_id,))
        state = "no referral" if ref is None else f"no open referral (the last was {ref.status})"
        raise JourneyRefused("client_id", f"{facts.record.client_id!r} has {state}")
    facts.in_scope((ref.team_id,))
    facts.by((ref.team_id,))
    return ref


def accept_referral(facts: Facts, decision: JourneyInput) -> list[Envelope]:
    """ReferralAccepted: the team takes the client on (enrolment records the details)."""
    ref = _open_referral(facts)
    at = facts.when(decision.occurred_at, not_before=ref.received_at,
                    before_what="the referral was received")  # fmt: skip
    payload = ReferralAccepted(
        referral_id=ref.referral_id, client_id=facts.record.client_id, team_id=ref.team_id
    )
    return [facts.event(payload, at=at, event_id=derived_id(ref.referral_id, "accepted"))]


def decline_referral(facts: Facts, decision: DeclineInput) -> list[Envelope]:
    """ReferralDeclined, with the reason the referrer is given."""
    ref = _open_referral(facts)
    at = facts.when(decision.occurred_at, not_before=ref.received_at,
                    before_what="the referral was received")  # fmt: skip
    payload = ReferralDeclined(
        referral_id=ref.referral_id,
        client_id=facts.record.client_id,
        team_id=ref.team_id,
        reason=decision.reason,
    )
    return [facts.event(payload, at=at, event_id=derived_id(ref.referral_id, "declined"))]
