"""The names this system gives its facts in FHIR: identifier systems for its ids, extensions
for what FHIR R4's Patient has no element for, the codes of what a consent shares and of
where a contact took place. docs/fhir.md lists them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time

from fhir.resources.R4B.identifier import Identifier

from dispatch.events import derived_id

BASE = "urn:act-dispatch"
CLIENT_SYSTEM = f"{BASE}:client"  # Patient.identifier: the client id
CARER_SYSTEM = f"{BASE}:carer"  # RelatedPerson.identifier: the carer id
STAFF_SYSTEM = f"{BASE}:staff"  # Practitioner references by identifier: the staff id
TEAM_SYSTEM = f"{BASE}:team"  # Organization references by identifier: the team id
SHARE_SYSTEM = f"{BASE}:consent-share"  # Consent.provision.code: crisis_status, ...
EXT_COORDINATOR = f"{BASE}:care-coordinator"  # valueReference (Practitioner)
EXT_WORKER_GENDER = f"{BASE}:preferred-worker-gender"  # valueCode
EXT_CULTURAL_NEEDS = f"{BASE}:cultural-needs"  # valueString
EXT_ENROLLED_AT = f"{BASE}:enrolled-at"  # valueDateTime
EXT_REFERRAL = f"{BASE}:referral"  # source (valueCode), source-team, criterion (repeats)
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"  # Encounter.class
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
LOINC = "http://loinc.org"
PATIENT_CONSENT = "59284-0"  # LOINC: patient consent (Consent.category)
# Encounter.class -> (contact kind, where); a cancelled encounter is an attempted contact.
PLACES: dict[str, tuple[str, str | None]] = {
    "HH": ("face_to_face", "home"),
    "FLD": ("face_to_face", "community"),
    "AMB": ("face_to_face", "office"),
    "VR": ("phone", None),
}
CLASS_OF: dict[str | None, str] = {"home": "HH", "community": "FLD", "office": "AMB"}
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


def fhir_id(text: str) -> str:
    """A FHIR resource id for one of ours: itself when FHIR allows it, else derived from it
    (the identifier keeps the original)."""
    return text if FHIR_ID.fullmatch(text) else derived_id("fhir-id", text).hex


def version_of(event_ids: Iterable[uuid.UUID]) -> str:
    """A resource's versionId: derived from the events it was made from."""
    return derived_id("fhir-version", *sorted(str(i) for i in event_ids)).hex[:16]


def identified(identifiers: Iterable[Identifier] | None, system: str) -> str | None:
    """The value of the first identifier of `system`."""
    for ident in identifiers or ():
        if ident.system == system and ident.value:
            return ident.value
    return None


def instant(value: date | datetime | None) -> datetime | None:
    """A FHIR date or dateTime as an instant (a date alone: its midnight UTC)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time(0), tzinfo=UTC)


def day(value: date | datetime | None) -> date | None:
    """A FHIR date or dateTime as a calendar date."""
    return value.date() if isinstance(value, datetime) else value
