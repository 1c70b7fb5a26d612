"""FHIR import and export decided against an in-memory system: what a bundle records, that a
second import and an export's re-import record nothing new, and refusals naming the resource
and the FHIR field."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from dispatch.clients.record import fold
from dispatch.interop.fhir_export import bundle_of, team_resources
from dispatch.interop.fhir_import import FhirPlan, Importer
from dispatch.interop.fhir_read import BundleRefused, read_bundle
from dispatch.interop.pending import restamp
from tests.unit.interop_world import NOW, TEAM, World

FIXTURE = Path(__file__).parents[1] / "fixtures" / "fhir_bundle.json"
REVIEW_BY = (NOW + timedelta(days=90)).date().isoformat()


def _bundle(**changes: str) -> dict[str, Any]:
    text = FIXTURE.read_text().replace("REVIEW_BY", REVIEW_BY)
    for old, new in changes.items():
        text = text.replace(old, new)
    data: dict[str, Any] = json.loads(text)
    return data


def _bytes(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


async def _import(
    world: World, data: bytes, team: str | None = TEAM, by: str = "s-imp-lead"
) -> FhirPlan:
    """Plan the bundle and record what it planned (as the command does)."""
    batch = world.batch()
    plan = await Importer(batch, world, team_id=team, by=by).plan(read_bundle(data))
    world.events += batch.pending.events
    return plan


async def test_each_mapped_resource_records_its_events_once() -> None:
    """Patient, RelatedPerson, Consent, CarePlan and Encounter each record one event, in the
    order the facts need; the Observation is listed as not mapped; again: nothing new."""
    world = World()
    plan = await _import(world, _bytes(_bundle()))
    assert [(p.source, [e.type for e in p.events]) for p in plan.planned] == [
        ("Patient/fhir-p1", ["ClientEnrolled"]),
        ("RelatedPerson/fhir-rp1", ["CarerRegistered"]),
        ("Consent/fhir-c1", ["ConsentGranted"]),
        ("CarePlan/fhir-cp1", ["CarePlanRecorded"]),
        ("Encounter/fhir-e1", ["ContactRecorded"]),
    ]
    assert plan.skipped == ["Observation/fhir-o1: Observation is not mapped"]
    again = await _import(world, _bytes(_bundle()))
    assert again.planned == [] and len(again.already) == 5


async def test_the_mapping_reads_the_fields_it_documents() -> None:
    """Enrolled at the first fact of the bundle, with the language, preference and needs;
    the carer's relationship from the coding; the visit's two staff, place and length."""
    world = World()
    plan = await _import(world, _bytes(_bundle()))
    enrolled, carer, consent, care_plan, visit = (p.events[0] for p in plan.planned)
    assert enrolled.occurred_at.isoformat() == "2026-10-01T09:00:00+00:00"
    assert enrolled.payload.model_dump(
        include={"display_name", "language", "preferred_gender", "phone"}
    ) == {
        "display_name": "Client Imported",
        "language": "es",
        "preferred_gender": "female",
        "phone": "+15550940101",
    }
    assert carer.payload.relationship == "mother"  # type: ignore[attr-defined]
    assert consent.payload.shares == ("crisis_status",)  # type: ignore[attr-defined]
    assert care_plan.payload.care_coordinator_id == "s-imp-nurse"  # type: ignore[attr-defined]
    assert visit.payload.model_dump(
        include={"kind", "where", "minutes", "staff_id", "other_staff_ids"}
    ) == {
        "kind": "face_to_face",
        "where": "home",
        "minutes": 45,
        "staff_id": "s-imp-nurse",
        "other_staff_ids": ("s-imp-social",),
    }


async def test_event_ids_derive_from_the_resource_type_id_and_version() -> None:
    """A new version of the same resource is new; the same version is not."""
    world = World()
    await _import(world, _bytes(_bundle()))
    newer = _bundle()
    newer["entry"][4]["resource"]["meta"]["versionId"] = "2"
    newer["entry"][4]["resource"]["period"]["start"] = "2026-10-12T10:00:00Z"
    plan = await _import(world, _bytes(newer))
    assert [p.source for p in plan.planned] == ["Encounter/fhir-e1"]


async def test_an_export_imports_back_as_nothing_new() -> None:
    """The team's export, read back as a bundle, records nothing: each resource is at the
    version the system holds."""
    world = World()
    await _import(world, _bytes(_bundle()))
    resources = team_resources(TEAM, {"fhir-p1": world.of("fhir-p1")}, NOW)
    exported = bundle_of(resources, NOW).model_dump_json(exclude_none=True).encode()
    plan = await _import(world, exported)
    assert plan.planned == [] and sorted(plan.already) == sorted(
        f"{r.get_resource_type()}/{r.id}" for r in resources
    )


async def test_an_exported_bundle_imports_into_an_empty_system_the_same() -> None:
    """Another system reading the export gets the same client, carer, consent, plan and
    visit (the identifiers carry this system's ids; only the consent's note, which names the
    resource it came from, differs)."""
    source = World()
    await _import(source, _bytes(_bundle()))
    exported = bundle_of(team_resources(TEAM, {"fhir-p1": source.of("fhir-p1")}, NOW), NOW)
    target = World()
    plan = await _import(target, exported.model_dump_json(exclude_none=True).encode())
    assert [e.type for p in plan.planned for e in p.events] == [
        "ClientEnrolled",
        "CarerRegistered",
        "ConsentGranted",
        "CarePlanRecorded",
        "ContactRecorded",
    ]
    assert fold("fhir-p1", target.events) == fold("fhir-p1", source.events)
    same = [e.payload.model_dump(exclude={"note"}) for e in target.events[1:]]
    assert same == [e.payload.model_dump(exclude={"note"}) for e in source.events[1:]]


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (
            lambda d: d["entry"][0]["resource"].update(birthDate="1980-13-45"),
            "Patient/fhir-p1 birthDate",
        ),
        (
            lambda d: d["entry"][1]["resource"]["telecom"][0].update(value="0794 000"),
            "RelatedPerson/fhir-rp1 telecom",
        ),
        (
            lambda d: d["entry"][2]["resource"]["provision"].pop("period"),
            "Consent/fhir-c1 provision.period.end",
        ),
        (
            lambda d: d["entry"][3]["resource"].update(author={"reference": "Practitioner/s-aot"}),
            "CarePlan/fhir-cp1 author",
        ),
        (
            lambda d: d["entry"][4]["resource"]["class"].update(code="EMER"),
            "Encounter/fhir-e1 class",
        ),
        (
            lambda d: d["entry"][4]["resource"]["period"].update(start="2099-01-01T00:00:00Z"),
            "Encounter/fhir-e1 period.start",
        ),
        (
            lambda d: d["entry"][5]["resource"].update(resourceType="Observaton"),
            "Observaton/fhir-o1 resourceType",
        ),
    ],
)
async def test_a_bad_resource_is_refused_naming_it_and_its_field(change: Any, where: str) -> None:
    """The refusal names the resource and the FHIR field; nothing is planned to record."""
    world = World()
    data = _bundle()
    change(data)
    with pytest.raises(BundleRefused) as refused:
        await _import(world, _bytes(data))
    assert str(refused.value).startswith(where)
    assert world.events == []


async def test_an_assertive_outreach_patient_needs_its_referral() -> None:
    """On an AOT team a Patient without the referral extension is refused (referral-only);
    with one from a community team it is referred, accepted and enrolled."""
    world = World()
    data = _bundle()
    data["entry"] = data["entry"][:1]
    patient = data["entry"][0]["resource"]
    patient["extension"].append(
        {
            "url": "urn:act-dispatch:care-coordinator",
            "valueReference": {"reference": "Practitioner/s-aot"},
        }
    )
    with pytest.raises(BundleRefused, match="Patient/fhir-p1 --by: 's-imp-lead' is not"):
        await _import(world, _bytes(data), team="aot-imp")
    with pytest.raises(BundleRefused, match="Patient/fhir-p1 identifier: Assertive Outreach"):
        await _import(world, _bytes(data), team="aot-imp", by="s-aot")
    patient["extension"].append(
        {
            "url": "urn:act-dispatch:referral",
            "extension": [
                {"url": "source", "valueCode": "cmht"},
                {"url": "source-team", "valueString": "CMHT"},
                {"url": "criterion", "valueCode": "frequent_admissions"},
            ],
        }
    )
    plan = await _import(world, _bytes(data), team="aot-imp", by="s-aot")
    assert [e.type for e in plan.planned[0].events] == [
        "ReferralReceived",
        "ReferralAccepted",
        "ClientEnrolled",
    ]


async def test_a_visit_length_in_hours_is_counted_in_minutes() -> None:
    """Encounter.length of 1.5 h is a 90-minute contact; a unit of weeks is refused."""
    data = _bundle()
    data["entry"][4]["resource"]["length"] = {"value": 1.5, "unit": "hour", "code": "h"}
    plan = await _import(World(), _bytes(data))
    assert plan.planned[-1].events[0].payload.minutes == 90  # type: ignore[attr-defined]
    data["entry"][4]["resource"]["length"] = {"value": 1, "code": "wk"}
    with pytest.raises(BundleRefused, match="Encounter/fhir-e1 length: unit 'wk'"):
        await _import(World(), _bytes(data))


def test_restamped_ids_follow_where_they_came_from_and_keep_their_links() -> None:
    """Ids derive from the origin and position; causes and correlations move with them."""
    from dispatch.clients.events import ReferralAccepted, ReferralReceived
    from dispatch.events import new_event

    first = new_event(
        ReferralReceived(
            referral_id=NOW_ID, client_id="c", team_id="t", display_name="C", source="cmht"
        ),
        key="c",
        occurred_at=NOW,
        recorded_at=NOW,
        actor="s",
    )
    second = new_event(
        ReferralAccepted(referral_id=NOW_ID, client_id="c", team_id="t"),
        key="c",
        occurred_at=NOW,
        recorded_at=NOW,
        actor="s",
        cause=first,
    )
    a = restamp([first, second], "fhir", "Patient", "p", "1")
    b = restamp([first, second], "fhir", "Patient", "p", "1")
    assert [e.event_id for e in a] == [e.event_id for e in b]
    assert a[1].causation_id == a[0].event_id and a[1].correlation_id == a[0].event_id
    assert restamp([first], "fhir", "Patient", "p", "2")[0].event_id != a[0].event_id


NOW_ID = __import__("uuid").UUID(int=7)
