"""FHIR R4 resources read as this system's inputs, purely: a Patient as an enrolment (and
its referral), a RelatedPerson as a carer, a Consent as consent granted or revoked, a
CarePlan as the care plan, an Encounter as a contact. The inputs are the models the commands
and the API read, so a value they refuse is refused here naming the FHIR field
(`FIELDS`). docs/fhir.md is the mapping in words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.relatedperson import RelatedPerson

from dispatch.clients.inputs import CarePlanInput, ContactInput, EnrolInput, ReferralInput
from dispatch.clients.intake import CarerInput, ConsentInput
from dispatch.interop import fhir_codes as codes
from dispatch.interop.fhir_read import Entry
from dispatch.interop.fhir_refs import Refs, by_identifier, carer_id_of, client_id_of, staff_of
from dispatch.interop.refusals import FieldRefused, validated

# The inputs' fields -> the FHIR element a refusal of them names, per resource type.
FIELDS: Mapping[str, Mapping[str, str]] = {
    "Patient": {"client_id": "identifier", "team_id": "managingOrganization",
                "display_name": "name", "phones": "telecom", "language": "communication",
                "preferred_gender": f"extension({codes.EXT_WORKER_GENDER})",
                "cultural_needs": f"extension({codes.EXT_CULTURAL_NEEDS})",
                "care_coordinator_id": f"extension({codes.EXT_COORDINATOR})",
                "occurred_at": f"extension({codes.EXT_ENROLLED_AT})",
                "source": f"extension({codes.EXT_REFERRAL}).source",
                "source_team": f"extension({codes.EXT_REFERRAL}).source-team",
                "criteria_met": f"extension({codes.EXT_REFERRAL}).criterion"},
    "RelatedPerson": {"client_id": "patient", "carer_id": "identifier",
                      "display_name": "name", "phone": "telecom",
                      "relationship": "relationship"},
    "Consent": {"client_id": "patient", "carer_id": "provision.actor",
                "shares": "provision.code", "review_by": "provision.period.end"},
    "CarePlan": {"client_id": "subject", "summary": "description", "goals": "goal",
                 "care_coordinator_id": "author", "occurred_at": "created",
                 "carers_involved": "contributor"},
    "Encounter": {"client_id": "subject", "staff_ids": "participant",
                  "occurred_at": "period.start", "minutes": "length", "kind": "class",
                  "where": "class"},
}  # fmt: skip


@dataclass(frozen=True)
class Skip:
    """A resource this import does not map, and why (listed, never an error)."""

    reason: str


@dataclass(frozen=True)
class PatientIn:
    client_id: str
    team_id: str | None
    enrolment: EnrolInput
    referral: ReferralInput | None


@dataclass(frozen=True)
class CarerIn:
    client_id: str
    carer: CarerInput


@dataclass(frozen=True)
class ConsentIn:
    client_id: str
    carer_id: str
    grant: ConsentInput | None  # None: the consent is withdrawn


@dataclass(frozen=True)
class CarePlanIn:
    client_id: str
    plan: CarePlanInput


@dataclass(frozen=True)
class ContactIn:
    client_id: str
    contact: ContactInput


def _name(names: Sequence[HumanName] | None) -> str | None:
    for name in names or ():
        if name.use == "old":
            continue
        words = [*(g for g in name.given or [] if g), name.family or ""]
        text = name.text or " ".join(words).strip()
        if text:
            return text
    return None


def _ext(extensions: Sequence[Extension] | None, url: str) -> Extension | None:
    return next((x for x in extensions or () if x.url == url), None)


def _referral(ext: Extension | None, display_name: str | None) -> ReferralInput | None:
    if ext is None:
        return None
    parts = ext.extension or []
    source = _ext(parts, "source")
    team = _ext(parts, "source-team")
    return validated(
        ReferralInput,
        {
            "display_name": display_name,
            "source": source.valueCode if source else None,
            "source_team": team.valueString if team else None,
            "criteria_met": tuple(
                p.valueCode for p in parts if p.url == "criterion" and p.valueCode
            ),
        },
    )


def patient_in(patient: Patient, *, first_fact_at: datetime | None) -> PatientIn | Skip:
    """The enrolment a Patient asks for (and its referral, when it carries one); enrolled at
    the enrolled-at extension, else at the first fact about them in the bundle, else now."""
    if patient.active is False:
        return Skip("inactive (active: false)")
    ext = patient.extension
    name = _name(patient.name)
    org = patient.managingOrganization
    phones = [
        t.value
        for t in sorted(patient.telecom or [], key=lambda t: t.rank or 1_000)
        if t.system in ("phone", "sms") and t.use != "old" and t.value
    ]
    languages = sorted(patient.communication or [], key=lambda c: not c.preferred)
    codings = [c for lang in languages for c in (lang.language.coding or []) if c.code]
    gender = _ext(ext, codes.EXT_WORKER_GENDER)
    needs = _ext(ext, codes.EXT_CULTURAL_NEEDS)
    lead = _ext(ext, codes.EXT_COORDINATOR)
    enrolled = _ext(ext, codes.EXT_ENROLLED_AT)
    at = codes.instant(enrolled.valueDateTime) if enrolled else first_fact_at
    enrolment: dict[str, Any] = {
        "display_name": name,
        "phones": tuple(dict.fromkeys(phones)),
        "occurred_at": at,
        "language": codings[0].code if codings else None,
        "preferred_gender": gender.valueCode if gender else None,
        "cultural_needs": needs.valueString if needs else None,
        "care_coordinator_id": staff_of(
            lead.valueReference, FIELDS["Patient"]["care_coordinator_id"]
        )
        if lead
        else None,
    }
    referral = _referral(_ext(ext, codes.EXT_REFERRAL), name)
    return PatientIn(
        client_id=client_id_of(patient),
        team_id=by_identifier(org, codes.TEAM_SYSTEM) if org else None,
        enrolment=validated(EnrolInput, enrolment),
        referral=referral.model_copy(update={"occurred_at": at}) if referral else None,
    )


def carer_in(person: RelatedPerson, refs: Refs) -> CarerIn | Skip:
    if person.active is False:
        return Skip("inactive (active: false)")
    phones = [t.value for t in person.telecom or [] if t.system in ("phone", "sms") and t.value]
    kinds = person.relationship or []
    codings = [c for k in kinds for c in (k.coding or [])]
    relationship = next((k.text for k in kinds if k.text), None) or next(
        (c.display or c.code for c in codings if c.display or c.code), None
    )
    carer = validated(
        CarerInput,
        {
            "carer_id": carer_id_of(person),
            "display_name": _name(person.name),
            "phone": phones[0] if phones else None,
            "relationship": relationship,
        },
    )
    return CarerIn(refs.client(person.patient, "patient"), carer)


def consent_in(consent: Consent, refs: Refs) -> ConsentIn | Skip:
    """Active and permitting: consent granted (what `provision.code` shares, reviewed by
    `provision.period.end`); inactive, rejected or denying: consent withdrawn."""
    provision = consent.provision
    actors = (provision.actor if provision else None) or []
    if not actors:
        raise FieldRefused("provision.actor", "name the carer (a RelatedPerson)")
    carer_id = refs.carer(actors[0].reference, "provision.actor[0].reference")
    client_id = refs.client(consent.patient, "patient")
    denies = provision is not None and provision.type == "deny"
    if consent.status in ("inactive", "rejected") or (consent.status == "active" and denies):
        return ConsentIn(client_id, carer_id, None)
    if consent.status != "active":
        return Skip(f"status {consent.status} (only active, inactive, rejected are mapped)")
    assert provision is not None
    shares = tuple(
        c.code
        for cc in provision.code or []
        for c in cc.coding or []
        if c.system == codes.SHARE_SYSTEM and c.code
    )
    period = provision.period
    grant = validated(
        ConsentInput,
        {
            "shares": shares,
            "review_by": codes.day(period.end) if period else None,
            "note": f"FHIR Consent/{consent.id}" if consent.id else None,
        },
    )
    return ConsentIn(client_id, carer_id, grant)


def care_plan_in(plan: CarePlan, refs: Refs) -> CarePlanIn | Skip:
    if plan.status != "active":
        return Skip(f"status {plan.status} (only an active care plan is mapped)")
    client_id = refs.client(plan.subject, "subject")
    when = codes.instant(plan.created) or (
        codes.instant(plan.period.start) if plan.period else None
    )
    lead = staff_of(plan.author, "author") if plan.author else None
    goals = tuple(g.display for g in plan.goal or [] if g.display)
    return CarePlanIn(
        client_id,
        validated(
            CarePlanInput,
            {
                "summary": plan.description or plan.title,
                "goals": goals,
                "care_coordinator_id": lead,
                "occurred_at": when,
            },
        ),
    )


MINUTES_PER = {"min": 1.0, "h": 60.0, "d": 1440.0}  # UCUM codes of Encounter.length


def _minutes(encounter: Encounter) -> float | None:
    """Encounter.length in minutes (UCUM min, h or d; no unit: minutes)."""
    length = encounter.length
    if length is None or length.value is None:
        return None
    unit = length.code or length.unit or "min"
    if unit not in MINUTES_PER:
        raise FieldRefused("length", f"unit {unit!r}: give min, h or d")
    return float(length.value) * MINUTES_PER[unit]


def contact_in(encounter: Encounter, refs: Refs) -> ContactIn | Skip:
    """finished: a contact of the kind its class says; cancelled: an attempted contact."""
    if encounter.status not in ("finished", "cancelled"):
        return Skip(f"status {encounter.status} (only finished and cancelled are mapped)")
    client_id = refs.client(encounter.subject, "subject")
    code = encounter.class_fhir.code if encounter.class_fhir else None
    if code not in codes.PLACES:
        raise FieldRefused("class", f"{code!r} is not mapped: use {', '.join(codes.PLACES)}")
    kind, where = codes.PLACES[code]
    if encounter.status == "cancelled":
        kind = "attempted"
    period = encounter.period
    start = codes.instant(period.start) if period else None
    if start is None:
        raise FieldRefused("period.start", "missing: when the contact took place")
    end = codes.instant(period.end) if period else None
    minutes = _minutes(encounter)
    if minutes is None and end is not None:
        minutes = (end - start).total_seconds() // 60
    staff = tuple(
        staff_of(p.individual, f"participant[{i}].individual")
        for i, p in enumerate(encounter.participant or [])
    )
    return ContactIn(
        client_id,
        validated(
            ContactInput,
            {
                "kind": kind,
                "where": where,
                "staff_ids": staff,
                "occurred_at": start,
                "minutes": int(minutes) if minutes is not None else None,
            },
        ),
    )


def first_facts(entries: Sequence[Entry], refs: Refs) -> dict[str, datetime]:
    """Per client, the earliest time a contact, care plan or consent of the bundle gives."""
    out: dict[str, datetime] = {}
    for e in entries:
        r = e.resource
        try:
            if isinstance(r, Encounter) and r.period is not None:
                client, at = refs.client(r.subject, "subject"), codes.instant(r.period.start)
            elif isinstance(r, CarePlan):
                client, at = refs.client(r.subject, "subject"), codes.instant(r.created)
            elif isinstance(r, Consent):
                client, at = refs.client(r.patient, "patient"), codes.instant(r.dateTime)
            else:
                continue
        except FieldRefused:
            continue  # refused with its own resource later
        if at is not None and (client not in out or at < out[client]):
            out[client] = at
    return out
