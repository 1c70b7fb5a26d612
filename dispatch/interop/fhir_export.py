"""A client's facts as FHIR R4 resources, purely from their events: the Patient (enrolment,
referral, preferences), a RelatedPerson per carer, a Consent per carer who was ever given
consent, the care plan, an Encounter per contact. Each resource's versionId derives from
the events it was made from, so importing an export back records nothing new."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource

from dispatch.clients.consent import consent_at
from dispatch.clients.events import (
    CONSENT_SHARES,
    CarePlanRecorded,
    CarePlanReviewed,
    CarerRegistered,
    ClientEnrolled,
    ConsentGranted,
    ConsentRevoked,
    ContactRecorded,
    ReferralReceived,
)
from dispatch.clients.record import JOURNEY, ClientRecord, fold
from dispatch.events import Envelope, derived_id
from dispatch.interop import fhir_codes as codes

Json = dict[str, Any]
BCP47 = "urn:ietf:bcp:47"
UCUM = "http://unitsofmeasure.org"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"


def _resource(kind: str, rid: str, events: Iterable[Envelope], body: Json) -> Resource:
    data = {
        "resourceType": kind,
        "id": codes.fhir_id(rid),
        "meta": {"versionId": codes.version_of(e.event_id for e in events)},
        **body,
    }
    made = get_fhir_model_class(kind).model_validate(data)
    assert isinstance(made, Resource)
    return made


def _ref(kind: str, system: str, value: str) -> Json:
    return {
        "reference": f"{kind}/{codes.fhir_id(value)}",
        "type": kind,
        "identifier": {"system": system, "value": value},
    }


def _staff(staff_id: str) -> Json:
    return {"type": "Practitioner", "identifier": {"system": codes.STAFF_SYSTEM, "value": staff_id}}


def _ext(url: str, **value: Any) -> Json:
    return {"url": url, **value}


def _referral(record: ClientRecord, events: Sequence[Envelope]) -> list[Json]:
    ref = record.referral
    received = [
        p
        for e in events
        if isinstance(p := e.payload, ReferralReceived)
        and ref is not None
        and p.referral_id == ref.referral_id
    ]
    if not received or ref is None or ref.team_id != record.team_id:
        return []
    r = received[-1]
    parts = [_ext("source", valueCode=r.source)]
    parts += [_ext("source-team", valueString=r.source_team)] if r.source_team else []
    parts += [_ext("criterion", valueCode=c) for c in r.criteria_met]
    return [{"url": codes.EXT_REFERRAL, "extension": parts}]


def _patient(record: ClientRecord, events: Sequence[Envelope]) -> Resource | None:
    enrolled = [p for e in events if isinstance(p := e.payload, ClientEnrolled)]
    if not record.enrolled or record.team_id is None or not enrolled:
        return None
    p = enrolled[-1]
    phones = [x for x in (p.phone, *p.other_phones) if x]
    ext = [_ext(codes.EXT_ENROLLED_AT, valueDateTime=record.enrolled_at)]
    if record.care_coordinator_id:
        ext.append(_ext(codes.EXT_COORDINATOR, valueReference=_staff(record.care_coordinator_id)))
    if p.preferred_gender != "unspecified":
        ext.append(_ext(codes.EXT_WORKER_GENDER, valueCode=p.preferred_gender))
    if p.cultural_needs:
        ext.append(_ext(codes.EXT_CULTURAL_NEEDS, valueString=p.cultural_needs))
    ext += _referral(record, events)
    journey = [e for e in events if isinstance(e.payload, JOURNEY)]
    return _resource(
        "Patient",
        record.client_id,
        journey,
        {
            "identifier": [{"system": codes.CLIENT_SYSTEM, "value": record.client_id}],
            "active": True,
            "name": [{"text": record.display_name or p.display_name}],
            "telecom": [
                {"system": "phone", "value": x, "rank": i} for i, x in enumerate(phones, 1)
            ],
            "communication": [
                {"language": {"coding": [{"system": BCP47, "code": p.language}]}, "preferred": True}
            ],
            "managingOrganization": {
                "type": "Organization",
                "identifier": {"system": codes.TEAM_SYSTEM, "value": record.team_id},
            },
            "extension": ext,
        },
    )


def _carers(client_id: str, events: Sequence[Envelope]) -> dict[str, Envelope]:
    """Each carer's latest registration."""
    return {p.carer_id: e for e in events if isinstance(p := e.payload, CarerRegistered)}


def _related_person(client_id: str, event: Envelope) -> Resource:
    p = event.payload
    assert isinstance(p, CarerRegistered)
    return _resource(
        "RelatedPerson",
        p.carer_id,
        [event],
        {
            "identifier": [{"system": codes.CARER_SYSTEM, "value": p.carer_id}],
            "patient": _ref("Patient", codes.CLIENT_SYSTEM, client_id),
            "name": [{"text": p.display_name}],
            "telecom": [{"system": "phone", "value": p.phone}],
            "relationship": [{"text": p.relationship}],
        },
    )


def _consent_fact(event: Envelope, carer_id: str) -> bool:
    """A grant, a revocation, or a registration with the older flag, about this carer."""
    p = event.payload
    if isinstance(p, ConsentGranted | ConsentRevoked):
        return p.carer_id == carer_id
    return (
        isinstance(p, CarerRegistered)
        and p.carer_id == carer_id
        and p.client_consents_to_share is not None
    )


def _consent(
    client_id: str, carer_id: str, events: Sequence[Envelope], now: datetime
) -> Resource | None:
    mine = [e for e in events if _consent_fact(e, carer_id)]
    if not mine:
        return None
    found = consent_at(events, client_id=client_id, carer_id=carer_id, at=now)
    provision: Json = {
        "actor": [
            {
                "role": {"coding": [{"system": PARTICIPATION, "code": "IRCP"}], "text": "carer"},
                "reference": _ref("RelatedPerson", codes.CARER_SYSTEM, carer_id),
            }
        ]
    }
    if found is not None:
        provision |= {
            "type": "permit",
            "code": [
                {"coding": [{"system": codes.SHARE_SYSTEM, "code": s}]}
                for s in CONSENT_SHARES
                if found.allows(s)
            ],
        }
        if found.review_by is not None:
            provision["period"] = {"end": found.review_by.isoformat()}
    return _resource(
        "Consent",
        f"consent.{client_id}.{carer_id}",
        mine,
        {
            "status": "active" if found is not None else "inactive",
            "scope": {"coding": [{"system": codes.CONSENT_SCOPE, "code": "patient-privacy"}]},
            "category": [{"coding": [{"system": codes.LOINC, "code": codes.PATIENT_CONSENT}]}],
            "patient": _ref("Patient", codes.CLIENT_SYSTEM, client_id),
            "dateTime": (found.granted_at if found else mine[-1].occurred_at).isoformat(),
            "provision": provision,
        },
    )


def _care_plan(client_id: str, events: Sequence[Envelope]) -> Resource | None:
    plans = [i for i, e in enumerate(events) if isinstance(e.payload, CarePlanRecorded)]
    if not plans:
        return None
    made = events[plans[-1] :]
    plan = made[0].payload
    assert isinstance(plan, CarePlanRecorded)
    goals = plan.goals
    for e in made:
        if isinstance(e.payload, CarePlanReviewed) and e.payload.goals is not None:
            goals = e.payload.goals
    used = [made[0], *(e for e in made if isinstance(e.payload, CarePlanReviewed))]
    return _resource(
        "CarePlan",
        f"careplan.{client_id}",
        used,
        {
            "status": "active",
            "intent": "plan",
            "description": plan.summary,
            "subject": _ref("Patient", codes.CLIENT_SYSTEM, client_id),
            "created": made[0].occurred_at.isoformat(),
            "author": _staff(plan.care_coordinator_id),
            "goal": [{"display": g} for g in goals],
        },
    )


def _encounter(client_id: str, event: Envelope) -> Resource:
    p = event.payload
    assert isinstance(p, ContactRecorded)
    code = "VR" if p.kind == "phone" else codes.CLASS_OF.get(p.where, "FLD")
    body: Json = {
        "status": "cancelled" if p.kind == "attempted" else "finished",
        "class": {"system": codes.ACT_CODE, "code": code},
        "subject": _ref("Patient", codes.CLIENT_SYSTEM, client_id),
        "participant": [{"individual": _staff(s)} for s in p.staff_ids],
        "period": {"start": event.occurred_at.isoformat()},
    }
    if p.minutes is not None:
        body["length"] = {"value": p.minutes, "unit": "min", "system": UCUM, "code": "min"}
    return _resource("Encounter", f"contact-{event.event_id.hex}", [event], body)


def client_resources(client_id: str, events: Sequence[Envelope], now: datetime) -> list[Resource]:
    """The client's resources, none when they are on no caseload now."""
    record = fold(client_id, events)
    patient = _patient(record, events)
    if patient is None:
        return []
    carers = _carers(client_id, events)
    consents = [_consent(client_id, c, events, now) for c in sorted(carers)]
    plan = _care_plan(client_id, events)
    return [
        patient,
        *(_related_person(client_id, carers[c]) for c in sorted(carers)),
        *(c for c in consents if c is not None),
        *([plan] if plan is not None else []),
        *(_encounter(client_id, e) for e in events if isinstance(e.payload, ContactRecorded)),
    ]


def team_resources(
    team_id: str, clients: Mapping[str, Sequence[Envelope]], now: datetime
) -> list[Resource]:
    """The resources of every client on the team's caseload now, by client id."""
    return [r for client_id, events in sorted(clients.items())
            if fold(client_id, events).team_id == team_id
            for r in client_resources(client_id, events, now)]  # fmt: skip


def versions(resources: Iterable[Resource]) -> dict[tuple[str, str], str]:
    """(type, id) -> versionId of each resource."""
    return {
        (r.get_resource_type(), r.id or ""): r.meta.versionId or ""
        for r in resources
        if r.meta is not None
    }


def bundle_of(resources: Sequence[Resource], now: datetime) -> Bundle:
    """A collection Bundle of the resources, each entry's fullUrl derived from its id."""
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "timestamp": now.isoformat(),
            "entry": [
                {
                    "fullUrl": f"urn:uuid:{derived_id('fhir-entry', r.get_resource_type(), r.id)}",
                    "resource": r,
                }
                for r in resources
            ],
        }
    )
