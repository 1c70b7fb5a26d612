"""References inside a FHIR Bundle resolved to this system's ids: a client from a Patient
reference, a carer from a RelatedPerson, a staff member from a Practitioner, by this
system's identifier when the reference carries one, else by the resource the reference
points to in the bundle, else by the id in the reference itself."""

from __future__ import annotations

from collections.abc import Sequence

from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.relatedperson import RelatedPerson
from fhir.resources.R4B.resource import Resource

from dispatch.interop import fhir_codes as codes
from dispatch.interop.fhir_read import Entry
from dispatch.interop.refusals import FieldRefused


def _local_id(reference: str | None, kind: str) -> str | None:
    """`kind/<id>` in a relative or absolute reference (a version suffix ignored)."""
    parts = (reference or "").split("/")
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == kind and parts[i + 1]:
            return parts[i + 1]
    return None


def client_id_of(patient: Patient) -> str:
    return codes.identified(patient.identifier, codes.CLIENT_SYSTEM) or patient.id or ""


def carer_id_of(person: RelatedPerson) -> str:
    return codes.identified(person.identifier, codes.CARER_SYSTEM) or person.id or ""


def by_identifier(ref: Reference, system: str) -> str | None:
    return codes.identified([ref.identifier] if ref.identifier else [], system)


def staff_of(ref: Reference | None, path: str) -> str:
    """A staff id from a reference to a Practitioner (by our identifier, or its id)."""
    found = (
        None
        if ref is None
        else (by_identifier(ref, codes.STAFF_SYSTEM) or _local_id(ref.reference, "Practitioner"))
    )
    if not found:
        raise FieldRefused(path, "not a reference to a Practitioner (a staff member)")
    return found


class Refs:
    """References inside a bundle resolved to this system's client and carer ids."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        self._by: dict[str, Resource] = {}
        for e in entries:
            if e.full_url:
                self._by[e.full_url] = e.resource
            if e.id:
                self._by[f"{e.type}/{e.id}"] = e.resource

    def _target(self, ref: Reference) -> Resource | None:
        raw = ref.reference or ""
        return self._by.get(raw) or self._by.get("/".join(raw.split("/")[-2:]))

    def _resolved(self, ref: Reference | None, kind: type[Patient] | type[RelatedPerson],
                  system: str, path: str, what: str) -> str:  # fmt: skip
        name = kind.get_resource_type()
        if ref is not None:
            target = self._target(ref)
            own = None
            if isinstance(target, Patient) and kind is Patient:
                own = client_id_of(target)
            elif isinstance(target, RelatedPerson) and kind is RelatedPerson:
                own = carer_id_of(target)
            found = by_identifier(ref, system) or own or _local_id(ref.reference, name)
            if found:
                return found
        raise FieldRefused(path, f"not a reference to a {name} ({what})")

    def client(self, ref: Reference | None, path: str) -> str:
        return self._resolved(ref, Patient, codes.CLIENT_SYSTEM, path, "the client")

    def carer(self, ref: Reference | None, path: str) -> str:
        return self._resolved(ref, RelatedPerson, codes.CARER_SYSTEM, path, "a carer")
