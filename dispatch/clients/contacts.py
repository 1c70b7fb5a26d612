"""Pure decisions on contacts with a client. Several staff on one visit each count it (the
team approach). During a transfer both teams may record contacts; the new team's first
face-to-face contact completes the hand-off (TransferCompleted, recorded with it)."""

from __future__ import annotations

from dispatch.clients.events import ContactRecorded, TransferCompleted
from dispatch.clients.inputs import ContactInput
from dispatch.clients.ports import JourneyRefused, StaffRef
from dispatch.clients.record import ClientRecord
from dispatch.clients.rules import NEEDS_COORDINATOR, Facts
from dispatch.events import Envelope, derived_id


def record_contact(facts: Facts, contact: ContactInput) -> list[Envelope]:
    """ContactRecorded, and TransferCompleted when it is the new team's first visit."""
    r = facts.enrolled()
    teams = tuple(t for t in (r.team_id, r.transfer.to_team_id if r.transfer else None) if t)
    facts.in_scope(teams)
    facts.by(teams)
    if len(set(contact.staff_ids)) != len(contact.staff_ids):
        raise JourneyRefused("staff_ids", "names someone twice")
    people = [facts.member(s, teams, "staff_ids") for s in contact.staff_ids]
    if contact.carer_id is not None:
        facts.carers((contact.carer_id,), "carer_id")
    at = facts.when(contact.occurred_at, not_before=r.enrolled_at, before_what="the enrolment")
    payload = ContactRecorded(
        client_id=r.client_id,
        staff_id=people[0].staff_id,
        other_staff_ids=tuple(p.staff_id for p in people[1:]),
        kind=contact.kind,
        where=contact.where,
        minutes=contact.minutes,
        note=contact.note,
        team_id=people[0].team_id,
        carer_id=contact.carer_id,
    )
    event_id = derived_id("contact", r.client_id, contact.kind, at.isoformat(),
                          *sorted(contact.staff_ids))  # fmt: skip
    recorded = facts.event(payload, at=at, event_id=event_id)
    return [recorded, *_hand_off(facts, r, recorded, people)]


def _hand_off(
    facts: Facts, r: ClientRecord, contact: Envelope, people: list[StaffRef]
) -> list[Envelope]:
    """The new team's first face-to-face visit after the request completes the transfer."""
    move = r.transfer
    if move is None or r.team_id is None:
        return []
    visit = isinstance(contact.payload, ContactRecorded) and contact.payload.kind == "face_to_face"
    newcomers = [s for s in people if s.team_id == move.to_team_id]
    if not visit or not newcomers or contact.occurred_at < move.requested_at:
        return []
    lead = move.care_coordinator_id
    if lead is None and facts.team(move.to_team_id, "client_id").service_model in NEEDS_COORDINATOR:
        lead = newcomers[0].staff_id  # the one who saw them, until the team names another
    done = TransferCompleted(
        client_id=r.client_id,
        from_team_id=r.team_id,
        to_team_id=move.to_team_id,
        contact_event_id=contact.event_id,
        care_coordinator_id=lead,
        contact_target_days=move.contact_target_days,
    )
    event_id = derived_id(contact.event_id, "transfer-completed")
    return [facts.event(done, at=contact.occurred_at, event_id=event_id)]
