"""A FHIR Bundle decided resource by resource through the services the commands use, in the
order the facts need (patients, carers, consents, care plans, contacts), before anything is
recorded. Idempotent by resource: the events a resource makes take ids derived from its
type, id and version, so a resource imported before (or one the system exported at the
version it holds now) records nothing new. The first refusal names the resource and the
FHIR field, and nothing is recorded."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.relatedperson import RelatedPerson

from dispatch.clients.inputs import JourneyInput
from dispatch.clients.intake import RevokeInput, add_carer, grant_consent, revoke_consent
from dispatch.events import Envelope
from dispatch.interop.batch import Batch, Planned
from dispatch.interop.fhir_export import client_resources, versions
from dispatch.interop.fhir_map import (
    FIELDS,
    CarePlanIn,
    CarerIn,
    ConsentIn,
    ContactIn,
    PatientIn,
    Skip,
    care_plan_in,
    carer_in,
    consent_in,
    contact_in,
    first_facts,
    patient_in,
)
from dispatch.interop.fhir_read import BundleRefused, Entry
from dispatch.interop.fhir_refs import Refs, client_id_of
from dispatch.interop.pending import restamp, stamped_id
from dispatch.interop.refusals import FieldRefused, deciding

ORDER = ("Patient", "RelatedPerson", "Consent", "CarePlan", "Encounter")
Change = PatientIn | CarerIn | ConsentIn | CarePlanIn | ContactIn


class ImportArchive(Protocol):
    """What the import reads besides the services' lookups (projections.interop_queries)."""

    async def known(self, event_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these events were recorded (archived or spooled)."""
        ...

    async def client_events(self, client_id: str) -> list[Envelope]: ...


@dataclass
class FhirPlan:
    planned: list[Planned] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # resources recorded before
    skipped: list[str] = field(default_factory=list)  # "Type/id: why it is not mapped"


@dataclass(frozen=True)
class Context:
    batch: Batch
    team_id: str | None
    by: str


def origin(entry: Entry) -> tuple[str, str, str, str]:
    return ("fhir", entry.type, entry.id, entry.version)


def _change(entry: Entry, refs: Refs, firsts: Mapping[str, Any]) -> Change | Skip:
    r = entry.resource
    if isinstance(r, Patient):
        return patient_in(r, first_fact_at=firsts.get(client_id_of(r)))
    if isinstance(r, RelatedPerson):
        return carer_in(r, refs)
    if isinstance(r, Consent):
        return consent_in(r, refs)
    if isinstance(r, CarePlan):
        return care_plan_in(r, refs)
    assert isinstance(r, Encounter)
    return contact_in(r, refs)


async def _apply(c: Context, change: Change, label: str) -> None:
    """Decide one resource's change with the services (their events land in the batch)."""
    b, by, scope = c.batch, c.by, c.team_id
    carer_actor = f"cli:{by}"
    if isinstance(change, PatientIn):
        team = scope or change.team_id
        if team is None:
            raise FieldRefused(
                "team_id", "name the team: --team, or an identifier of system urn:act-dispatch:team"
            )
        client, ref = change.client_id, change.referral
        if ref is not None:
            accepted = JourneyInput(occurred_at=ref.occurred_at)
            await deciding(lambda: b.journey.receive_referral(client, team, ref, actor=by))
            await deciding(lambda: b.journey.accept_referral(client, accepted, actor=by))
        await deciding(lambda: b.journey.enrol(client, team, change.enrolment, actor=by))
    elif isinstance(change, CarerIn):
        b.pending.add(
            [
                await deciding(
                    lambda: add_carer(
                        b.carers,
                        change.client_id,
                        change.carer,
                        team_id=scope,
                        now=b.now,
                        actor=carer_actor,
                    )
                )
            ]
        )
    elif isinstance(change, ConsentIn):
        grant, args = change.grant, (b.carers, change.client_id, change.carer_id)
        making: Callable[[], Awaitable[Envelope]] = (
            (lambda: grant_consent(*args, grant, team_id=scope, now=b.now, actor=carer_actor))
            if grant is not None
            else (
                lambda: revoke_consent(
                    *args,
                    RevokeInput(reason=f"FHIR {label}"),
                    team_id=scope,
                    now=b.now,
                    actor=carer_actor,
                )
            )
        )
        b.pending.add([await deciding(making)])
    elif isinstance(change, CarePlanIn):
        await deciding(
            lambda: b.journey.care_plan(change.client_id, change.plan, actor=by, scope=scope)
        )
    else:
        await deciding(
            lambda: b.journey.contact(change.client_id, change.contact, actor=by, scope=scope)
        )


def _fhir_field(kind: str, refused: FieldRefused) -> str:
    """The FHIR element a refusal names (`--by`: whoever imports is not of the team)."""
    name = refused.field.split(".", 1)[0]
    return "--by" if name == "by" else FIELDS[kind].get(name, refused.field)


class Importer:
    """One bundle's plan against the system as it stands."""

    def __init__(
        self, batch: Batch, archive: ImportArchive, *, team_id: str | None, by: str
    ) -> None:
        self._context = Context(batch, team_id, by)
        self._archive = archive
        self._current: dict[str, dict[tuple[str, str], str]] = {}

    async def _holds(self, entry: Entry, client_id: str) -> bool:
        """Whether the system holds this very version (one it exported)."""
        if not entry.version:
            return False
        if client_id not in self._current:
            events = await self._archive.client_events(client_id)
            now = self._context.batch.now
            self._current[client_id] = versions(client_resources(client_id, events, now))
        return self._current[client_id].get((entry.type, entry.id)) == entry.version

    async def plan(self, entries: Sequence[Entry]) -> FhirPlan:
        """What the bundle records (nothing for what was imported before), or BundleRefused."""
        out = FhirPlan()
        refs = Refs(entries)
        firsts = first_facts(entries, refs)
        mapped = sorted(
            (e for e in entries if e.type in ORDER), key=lambda e: (ORDER.index(e.type), e.index)
        )
        out.skipped += [
            f"{e.label}: {e.type} is not mapped" for e in entries if e.type not in ORDER
        ]
        firsts_ids = {e.index: stamped_id(origin(e), 0) for e in mapped}
        known = await self._archive.known(list(firsts_ids.values()))
        pending = self._context.batch.pending
        for e in mapped:
            if firsts_ids[e.index] in known:
                out.already.append(e.label)
                continue
            mark = pending.mark()
            try:
                change = _change(e, refs, firsts)
                if isinstance(change, Skip):
                    out.skipped.append(f"{e.label}: {change.reason}")
                    continue
                if await self._holds(e, change.client_id):
                    out.already.append(e.label)
                    continue
                await _apply(self._context, change, e.label)
            except FieldRefused as refused:
                raise BundleRefused(
                    e.label, _fhir_field(e.type, refused), refused.message
                ) from None
            events = restamp(pending.since(mark), *origin(e))
            pending.replace_since(mark, events)
            out.planned.append(Planned(e.label, tuple(events)))
        return out
