"""The client journey's pure decisions: referral rules, enrolment, transfer, discharge,
re-referral, contacts and care plans; every bad input refused naming its field."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from dispatch.clients.careplans import record_care_plan, review_care_plan
from dispatch.clients.caseload import discharge, enrol, re_refer, transfer
from dispatch.clients.contacts import record_contact
from dispatch.clients.events import ClientEnrolled, ContactRecorded, TransferCompleted
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
    parse_input,
)
from dispatch.clients.ports import JourneyRefused
from dispatch.clients.referrals import accept_referral, decline_referral, receive_referral
from tests.unit.journey_builders import NOW, facts, hours, played

CMHT = ReferralInput(display_name="Client A", source="cmht", source_team="CMHT North",
                     criteria_met=("severe_mental_illness", "frequent_admissions"))  # fmt: skip
REFERRED = (receive_referral, ("aot-east", CMHT), {})
ACCEPTED = (accept_referral, (JourneyInput(),), {})
COORDINATED = EnrolInput(care_coordinator_id="s-ann", phones=("+15550770001",))
ENROLLED = (enrol, ("aot-east", COORDINATED), {})
ON_ACT = (enrol, ("act-mid", EnrolInput(display_name="Client D")), {"actor": "s-di"})
VISIT = ContactInput(kind="face_to_face", staff_ids=("s-ann",))


def refusal(
    steps: list[Any], decision: Callable[..., Any], *args: Any, **kw: Any
) -> JourneyRefused:
    record, _ = played(steps)
    with pytest.raises(JourneyRefused) as refused:
        decision(facts(record, **kw), *args)
    return refused.value


@pytest.mark.parametrize("source", ["self", "family", "gp", "other"])
def test_an_outreach_team_refuses_referrals_not_from_a_mental_health_team(source: str) -> None:
    """Assertive Outreach is referral-only from mental-health teams: a self or family
    referral is answered with the reason and records nothing."""
    body = ReferralInput(display_name="X", source=source, criteria_met=("complex_needs",))  # type: ignore[arg-type]
    refused = refusal([], receive_referral, "aot-east", body)
    assert refused.field == "source" and "Assertive Outreach" in refused.message
    assert refused.status == 400


def test_a_team_source_names_the_referring_team_and_act_takes_self_referrals() -> None:
    """A CMHT referral without the team's name is refused; an ACT team takes a self-referral."""
    body = CMHT.model_copy(update={"source_team": None})
    assert refusal([], receive_referral, "aot-east", body).field == "source_team"
    own = ReferralInput(display_name="Y", source="self", criteria_met=("difficult_engagement",))
    (event,) = receive_referral(facts(actor="s-di"), "act-mid", own)
    assert event.type == "ReferralReceived" and event.actor == "s-di"


def test_an_outreach_client_from_referral_to_discharge_and_quick_re_referral() -> None:
    """Referred by a CMHT, accepted, enrolled with a coordinator and the team's target, seen,
    given a care plan, discharged with a consented carer, and back in one step."""
    later = NOW + timedelta(days=30)
    record, events = played([
        REFERRED, ACCEPTED, ENROLLED,
        (record_contact, (ContactInput(kind="face_to_face", where="home", minutes=45,
                                       staff_ids=("s-ann", "s-bo")),), {}),
        (record_care_plan, (CarePlanInput(summary="housing, medication support"),), {}),
        (discharge, (DischargeInput(reason="stable; GP and CMHT take over",
                                    carers_involved=("carer-ok",)),), {"carers": ("carer-ok",)}),
        (re_refer, (ReReferralInput(source="cmht", source_team="CMHT North",
                                    occurred_at=later),), {"now": later}),
    ])  # fmt: skip
    assert [e.type for e in events] == [
        "ReferralReceived", "ReferralAccepted", "ClientEnrolled", "ContactRecorded",
        "CarePlanRecorded", "ClientDischarged", "ClientReReferred",
    ]  # fmt: skip
    enrolled = events[2].payload
    assert isinstance(enrolled, ClientEnrolled)
    assert (enrolled.care_coordinator_id, enrolled.contact_target_days) == ("s-ann", 3.0)
    assert enrolled.display_name == "Client A" and enrolled.referral_id is not None
    assert record.enrolled and record.episodes == 2 and record.team_id == "aot-east"
    assert record.care_coordinator_id == "s-ann" and record.enrolled_at == later
    assert record.discharged_at is not None  # the history stays


def test_an_outreach_enrolment_needs_an_accepted_referral() -> None:
    """Enrolling with an Assertive Outreach team without an accepted referral (none, still
    open, or declined) is refused."""
    decision, args, _ = ENROLLED
    declined = (decline_referral, (DeclineInput(reason="needs met by the CMHT"),), {})
    for before in ([], [REFERRED], [REFERRED, declined]):
        assert refusal(before, decision, *args).field == "client_id"
    _, events = played([REFERRED, declined])
    assert events[-1].type == "ReferralDeclined"


def test_icm_and_outreach_teams_name_a_care_coordinator_of_their_own() -> None:
    """An ICM enrolment without a case manager, or with someone of another team, is refused."""
    body = EnrolInput(display_name="Z")
    assert refusal([], enrol, "icm-west", body, actor="s-cy").field == "care_coordinator_id"
    other = EnrolInput(display_name="Z", care_coordinator_id="s-ann")
    refused = refusal([], enrol, "icm-west", other, actor="s-cy")
    assert refused.field == "care_coordinator_id" and "not a member" in refused.message


FUTURE = NOW + timedelta(hours=2)
BAD_INPUT = [
    ("unknown team", [], receive_referral, ("nowhere", CMHT), {}, "team_id"),
    ("unknown staff", [REFERRED, ACCEPTED, ENROLLED], record_contact,
     (ContactInput(kind="phone", staff_ids=("s-zz",)),), {}, "staff_ids"),
    ("staff of another team", [REFERRED, ACCEPTED, ENROLLED], record_contact,
     (ContactInput(kind="phone", staff_ids=("s-cy",)),), {}, "staff_ids"),
    ("recorded by another team", [REFERRED, ACCEPTED, ENROLLED], record_contact, (VISIT,),
     {"actor": "s-cy"}, "by"),
    ("contact before enrolment", [REFERRED, ACCEPTED, ENROLLED], record_contact,
     (VISIT.model_copy(update={"occurred_at": hours(3)}),), {}, "occurred_at"),
    ("contact in the future", [REFERRED, ACCEPTED, ENROLLED], record_contact,
     (VISIT.model_copy(update={"occurred_at": FUTURE}),), {}, "occurred_at"),
    ("contact with no enrolment", [], record_contact, (VISIT,), {}, "client_id"),
    ("discharge before enrolment", [REFERRED, ACCEPTED, ENROLLED], discharge,
     (DischargeInput(reason="r", occurred_at=hours(3)),), {}, "occurred_at"),
    ("discharge in the future", [REFERRED, ACCEPTED, ENROLLED], discharge,
     (DischargeInput(reason="r", occurred_at=FUTURE),), {}, "occurred_at"),
    ("discharge of a client not enrolled", [REFERRED], discharge,
     (DischargeInput(reason="r"),), {}, "client_id"),
    ("discharge with a carer without consent", [REFERRED, ACCEPTED, ENROLLED], discharge,
     (DischargeInput(reason="r", carers_involved=("carer-no",)),), {"carers": ("carer-no",)},
     "carers_involved"),
    ("contact with a carer without consent", [REFERRED, ACCEPTED, ENROLLED], record_contact,
     (VISIT.model_copy(update={"carer_id": "carer-no"}),), {"carers": ("carer-no",)},
     "carer_id"),
    ("contact with someone not the client's carer", [REFERRED, ACCEPTED, ENROLLED],
     record_contact, (VISIT.model_copy(update={"carer_id": "carer-x"}),),
     {"carers": ("carer-x",)}, "carer_id"),
    ("transfer to the same team", [REFERRED, ACCEPTED, ENROLLED], transfer,
     (TransferInput(to_team_id="aot-east"),), {}, "to_team_id"),
    ("transfer to an unknown team", [REFERRED, ACCEPTED, ENROLLED], transfer,
     (TransferInput(to_team_id="nowhere"),), {}, "to_team_id"),
    ("re-referral of a client on a caseload", [REFERRED, ACCEPTED, ENROLLED], re_refer,
     (ReReferralInput(source="cmht", source_team="CMHT"),), {}, "client_id"),
    ("re-referral of a client never discharged", [], re_refer,
     (ReReferralInput(source="cmht", source_team="CMHT"),), {}, "client_id"),
    ("a review of no care plan", [REFERRED, ACCEPTED, ENROLLED], review_care_plan,
     (CarePlanReviewInput(note="n"),), {}, "client_id"),
    ("a referral of a client already on a caseload", [ON_ACT], receive_referral,
     ("aot-east", CMHT), {}, "client_id"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("steps", "decision", "args", "kw", "field"),
    [case[1:] for case in BAD_INPUT],
    ids=[case[0] for case in BAD_INPUT],
)
def test_bad_input_is_refused_naming_the_field(
    steps: list[Any], decision: Callable[..., Any], args: tuple[Any, ...], kw: dict[str, Any],
    field: str,
) -> None:  # fmt: skip
    """Each bad change is refused (400) naming the field; a decision that refuses returns no
    events, so nothing can be recorded."""
    refused = refusal(steps, decision, *args, **kw)
    assert (refused.field, refused.status) == (field, 400)


def test_another_teams_client_is_not_found() -> None:
    """Through the API (scoped to the caller's team) another team's client is a 404."""
    refused = refusal([ON_ACT], record_contact, VISIT, scope="aot-east")
    assert (refused.field, refused.status) == ("client_id", 404)


def test_a_contact_by_two_staff_names_both() -> None:
    """The team approach: a visit by two staff is one contact naming each of them."""
    record, _ = played([REFERRED, ACCEPTED, ENROLLED])
    both = ContactInput(kind="face_to_face", staff_ids=("s-ann", "s-bo"), where="community")
    (event,) = record_contact(facts(record), both)
    contact = event.payload
    assert isinstance(contact, ContactRecorded)
    assert contact.staff_ids == ("s-ann", "s-bo") and contact.team_id == "aot-east"
    twice = ContactInput(kind="phone", staff_ids=("s-ann", "s-ann"))
    assert refusal([REFERRED, ACCEPTED, ENROLLED], record_contact, twice).field == "staff_ids"


def test_a_contact_with_a_consented_carer_names_them() -> None:
    """A visit the client's carer took part in (consent in force) names the carer (S6)."""
    record, _ = played([REFERRED, ACCEPTED, ENROLLED])
    with_carer = VISIT.model_copy(update={"carer_id": "carer-ok"})
    (event,) = record_contact(facts(record, carers=("carer-ok",)), with_carer)
    assert isinstance(event.payload, ContactRecorded) and event.payload.carer_id == "carer-ok"


def test_a_transfer_completes_at_the_new_teams_first_face_to_face_contact() -> None:
    """The old team keeps contact; the new team's phone call does not hand over, its first
    visit does (and, for ICM, makes the visitor the case manager until another is named)."""
    move = (
        transfer,
        (TransferInput(to_team_id="icm-west", reason="moved home"),),
        {"actor": "s-di"},
    )
    old_visit = ContactInput(kind="face_to_face", staff_ids=("s-di",))
    new_call = ContactInput(kind="phone", staff_ids=("s-cy",))
    new_visit = ContactInput(kind="face_to_face", staff_ids=("s-cy",), where="home")
    record, events = played([
        ON_ACT, move,
        (record_contact, (old_visit,), {"actor": "s-di"}),
        (record_contact, (new_call,), {"actor": "s-cy"}),
        (record_contact, (new_visit,), {"actor": "s-cy"}),
    ])  # fmt: skip
    assert [e.type for e in events][-4:] == [
        "ContactRecorded", "ContactRecorded", "ContactRecorded", "TransferCompleted"
    ]  # fmt: skip
    done = events[-1].payload
    assert isinstance(done, TransferCompleted)
    assert (done.to_team_id, done.care_coordinator_id, done.contact_target_days) == (
        "icm-west", "s-cy", 7.0
    )  # fmt: skip
    assert done.contact_event_id == events[-2].event_id
    assert record.team_id == "icm-west" and record.transfer is None
    assert refusal([ON_ACT, move], transfer, TransferInput(to_team_id="aot-east"),
                   actor="s-di").field == "client_id"  # fmt: skip


def test_the_same_change_at_the_same_time_is_the_same_event() -> None:
    """A change resubmitted with its time derives the same ids: the spool records it once."""
    record, _ = played([REFERRED, ACCEPTED, ENROLLED])
    visit = VISIT.model_copy(update={"occurred_at": NOW})
    first = record_contact(facts(record), visit)
    again = record_contact(facts(record, now=NOW + timedelta(minutes=1)), visit)
    assert [e.event_id for e in first] == [e.event_id for e in again]


def test_input_is_read_naming_the_bad_field() -> None:
    """The command line and the API read input alike: an unknown or wrong field is named."""
    for body, field in (
        ({"kind": "visit", "staff_ids": ["s-ann"]}, "kind"),
        ({"kind": "phone", "staff_ids": []}, "staff_ids"),
        ({"kind": "phone", "staff_ids": ["s-ann"], "minutes": 0}, "minutes"),
        ({"kind": "phone", "staff_ids": ["s-ann"], "occurred_at": "2026-05-04T10:00"},
         "occurred_at"),
        ({"kind": "phone", "staff_ids": ["s-ann"], "by": "x"}, "by"),
    ):  # fmt: skip
        with pytest.raises(JourneyRefused) as refused:
            parse_input(ContactInput, body)
        assert refused.value.field == field
