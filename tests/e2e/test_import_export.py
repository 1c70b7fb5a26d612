"""Import and export on the real stack: a FHIR bundle imported twice records once, a dry run
records nothing, an unreadable bundle and a bad CSV row are refused naming where and record
nothing, an export imports back as nothing new; CSV files of staff, clients and carers go in
through the commands' services; the huddle JSON carries the team's notices; the API lists a
client's carers with the consent in force and records the read."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner, Result

from dispatch.cli import main
from dispatch.stack.runtime import Stack
from dispatch.web.app import make_web_app
from tests.e2e.helpers import spool_total, until
from tests.e2e.team_seed import TeamSeed

TEAM, LINE = "i9-imp", "+15005550093"
LEAD, NURSE, SOCIAL = "s-imp-lead", "s-imp-nurse", "s-imp-social"
PHONES = {LEAD: "+15550940001", NURSE: "+15550940002", SOCIAL: "+15550940003"}
PATIENT, CARER = "fhir-p1", "fhir-rp1"
BUNDLE = Path(__file__).parents[1] / "fixtures" / "fhir_bundle.json"
TOKEN = f"imp-lead:{TEAM}:team_lead:{LEAD}"
IMPORTED = {
    "ClientEnrolled",
    "CarerRegistered",
    "ConsentGranted",
    "CarePlanRecorded",
    "ContactRecorded",
}


@pytest.fixture(scope="module")
async def team(stack: Stack) -> str:
    """An ACT team of its own with a lead, a nurse and a social worker (no clients yet)."""
    seed = TeamSeed(stack.clock.now(), TEAM)
    seed.team(name="Import team", fallback_number="+15005550194", crisis_line_number=LINE)
    for staff_id, role in ((LEAD, "team_lead"), (NURSE, "nurse"), (SOCIAL, "social_worker")):
        seed.staff(
            staff_id,
            phone=PHONES[staff_id],
            role=role,
            gender="female",  # type: ignore[arg-type]
            display_name=staff_id,
        )
    await stack.publisher.publish(seed.events)
    await stack.projector.wait_until_caught_up(timeout=30)
    return TEAM


@pytest.fixture(scope="module")
def bundle(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-written bundle, its consent's review date set 90 days from today (a review
    date must lie ahead)."""
    review_by = (stack.clock.now() + timedelta(days=90)).date().isoformat()
    path = tmp_path_factory.mktemp("fhir") / "bundle.json"
    path.write_text(BUNDLE.read_text().replace("REVIEW_BY", review_by))
    return path


def _variant(source: Path, path: Path, changes: dict[str, str]) -> Path:
    """A copy of the bundle with some text replaced."""
    text = source.read_text()
    for old, new in changes.items():
        text = text.replace(old, new)
    path.write_text(text)
    return path


async def _cli(stack: Stack, *args: str) -> Result:
    env = {
        "DATABASE_URL": stack.settings.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": stack.settings.kafka_bootstrap_servers,
    }
    return await asyncio.to_thread(CliRunner().invoke, main, list(args), env=env)


async def _archived_types(stack: Stack, key: str) -> set[str]:
    rows = await stack.pool.fetch("SELECT type FROM event_archive WHERE key = $1", key)
    return {r["type"] for r in rows}


async def test_a_dry_run_lists_the_bundle_and_records_nothing(
    stack: Stack, team: str, bundle: Path
) -> None:
    """`--dry-run` lists each resource's events, says what is not mapped, records nothing."""
    before = await spool_total(stack)
    result = await _cli(
        stack, "import", "fhir", str(bundle), "--team", team, "--dry-run", "--by", LEAD
    )
    assert result.exit_code == 0, result.output
    assert f"Patient/{PATIENT}: ClientEnrolled" in result.output
    assert "Encounter/fhir-e1: ContactRecorded" in result.output
    assert "would record 5 events from 5 resources" in result.output
    assert "not mapped: Observation/fhir-o1" in result.output
    assert await spool_total(stack) == before
    assert await _archived_types(stack, PATIENT) == set()


async def test_a_fhir_bundle_imported_twice_records_once(
    stack: Stack, team: str, bundle: Path
) -> None:
    """The first import records the client, carer, consent, care plan and visit (in force
    on return); the second records nothing and says so."""
    first = await _cli(stack, "import", "fhir", str(bundle), "--team", team, "--by", LEAD)
    assert first.exit_code == 0, first.output
    assert "recorded 5 events from 5 resources" in first.output and "in force now" in first.output
    assert await _archived_types(stack, PATIENT) == IMPORTED
    consent = await stack.services.carers.consent(PATIENT, CARER)
    assert consent is not None and consent.shares == {"crisis_status"}
    spooled = await spool_total(stack, PATIENT)
    second = await _cli(stack, "import", "fhir", str(bundle), "--team", team, "--by", LEAD)
    assert second.exit_code == 0, second.output
    assert "nothing new" in second.output and "already recorded (5)" in second.output
    assert await spool_total(stack, PATIENT) == spooled


async def test_an_export_imports_back_as_nothing_new(
    stack: Stack, team: str, bundle: Path, tmp_path: Path
) -> None:
    """`dispatch export fhir` writes the team's caseload as a Bundle; importing it records
    nothing; the export's read of the records is itself recorded."""
    assert (
        await _cli(stack, "import", "fhir", str(bundle), "--team", team, "--by", LEAD)
    ).exit_code == 0
    out = tmp_path / "export.json"
    exported = await _cli(stack, "export", "fhir", "--team", team, "--out", str(out), "--by", LEAD)
    assert exported.exit_code == 0, exported.output
    kinds = [e["resource"]["resourceType"] for e in json.loads(out.read_text())["entry"]]
    assert sorted(set(kinds)) == ["CarePlan", "Consent", "Encounter", "Patient", "RelatedPerson"]
    before = await spool_total(stack, PATIENT)
    again = await _cli(stack, "import", "fhir", str(out), "--team", team, "--by", LEAD)
    assert again.exit_code == 0, again.output
    assert "nothing new" in again.output
    assert await spool_total(stack, PATIENT) == before
    audit = await stack.pool.fetchval(
        """SELECT count(*) FROM ingress_spool WHERE key = $1
           AND convert_from(value, 'UTF8')::jsonb->'payload'->>'view' = 'export:fhir'""",
        team,
    )
    assert audit >= 1


async def test_an_unreadable_bundle_is_refused_naming_the_resource_and_field(
    stack: Stack, team: str, tmp_path: Path
) -> None:
    """A Patient with a malformed birth date: exit 2, the resource and field named, nothing
    recorded (not even the good resources)."""
    data = json.loads(BUNDLE.read_text())
    for entry in data["entry"]:
        entry["resource"]["id"] = entry["resource"]["id"].replace("fhir-", "bad-")
    data["entry"][0]["resource"]["birthDate"] = "13/05/1980"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data).replace("fhir-p1", "bad-p1"))
    before = await spool_total(stack)
    result = await _cli(stack, "import", "fhir", str(path), "--team", team, "--by", LEAD)
    assert result.exit_code == 2
    assert "Patient/bad-p1 birthDate" in result.output
    assert await spool_total(stack) == before


async def test_a_refused_resource_names_its_fhir_field(
    stack: Stack, team: str, bundle: Path, tmp_path: Path
) -> None:
    """A visit with someone not on the team: the contact service refuses it, the message
    names the Encounter's participant, and nothing of the bundle is recorded."""
    path = _variant(bundle, tmp_path / "stranger.json",
                    {"fhir-": "stranger-", "s-imp-social": "s-nurse"})  # fmt: skip
    before = await spool_total(stack)
    result = await _cli(stack, "import", "fhir", str(path), "--team", team, "--by", LEAD)
    assert result.exit_code == 2
    assert "Encounter/stranger-e1 participant" in result.output
    assert "'s-nurse' is not a member" in result.output
    assert await spool_total(stack) == before


def _csv(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


async def test_a_bad_csv_row_is_refused_naming_row_and_column(
    stack: Stack, team: str, tmp_path: Path
) -> None:
    """Row 3 has a phone that is not E.164 and row 4 a coordinator of another team: exit 2,
    both named, and the good row 2 is not recorded either."""
    path = _csv(
        tmp_path,
        "clients.csv",
        "client_id,name,phone,coordinator\n"
        "c-imp-ok,Client OK,+15550940111,\n"
        "c-imp-bad,Client Bad,0794 000 111,\n"
        "c-imp-other,Client Other,+15550940113,s-nurse\n",
    )
    before = await spool_total(stack)
    result = await _cli(
        stack, "import", "csv", path, "--kind", "clients", "--team", team, "--by", LEAD
    )
    assert result.exit_code == 2
    assert "row 3, column phone" in result.output
    assert "row 4, column coordinator" in result.output
    assert await spool_total(stack) == before


async def test_csv_files_of_staff_clients_and_carers_go_in(
    stack: Stack, team: str, tmp_path: Path
) -> None:
    """Staff join, clients are enrolled (one with a referral) and carers registered with
    consent, each file through the commands' services; the staff and carers are in force."""
    staff = _csv(
        tmp_path,
        "staff.csv",
        "staff_id,name,role,phone,languages\n"
        "s-imp-peer,Peer worker,peer_support_worker,+15550940004,en;pl\n",
    )
    result = await _cli(
        stack, "import", "csv", staff, "--kind", "staff", "--team", team, "--by", LEAD
    )
    assert result.exit_code == 0, result.output
    assert "row 2: StaffJoined" in result.output and "in force now" in result.output
    clients = _csv(
        tmp_path,
        "clients.csv",
        "client_id,name,phone,coordinator,language,referral_source,referral_team,"
        "criteria\n"
        "c-imp-1,Client One,+15550940121,s-imp-peer,pl,,,\n"
        "c-imp-2,Client Two,+15550940122;+15550940123,,en,cmht,North CMHT,"
        "severe_mental_illness;frequent_admissions\n",
    )
    result = await _cli(
        stack, "import", "csv", clients, "--kind", "clients", "--team", team, "--by", LEAD
    )
    assert result.exit_code == 0, result.output
    assert "row 3: ReferralReceived, ReferralAccepted, ClientEnrolled" in result.output
    carers = _csv(
        tmp_path,
        "carers.csv",
        "client_id,carer_id,name,phone,relationship,shares,review_by\n"
        f"c-imp-1,k-imp-1,Carer One,+15550940221,partner,crisis_status;appointments,"
        f"{(stack.clock.now() + timedelta(days=60)).date().isoformat()}\n",
    )
    result = await _cli(
        stack, "import", "csv", carers, "--kind", "carers", "--team", team, "--by", LEAD
    )
    assert result.exit_code == 0, result.output
    assert "row 2: CarerRegistered, ConsentGranted" in result.output
    consent = await stack.services.carers.consent("c-imp-1", "k-imp-1")
    assert consent is not None and consent.shares == {"crisis_status", "appointments"}
    assert await _archived_types(stack, "c-imp-2") >= {"ReferralAccepted", "ClientEnrolled"}


async def test_the_huddle_json_carries_the_team_notices(
    stack: Stack, team: str, bundle: Path
) -> None:
    """A carer's assessment due within two weeks shows in `huddle --json` as on the board."""
    assert (
        await _cli(stack, "import", "fhir", str(bundle), "--team", team, "--by", LEAD)
    ).exit_code == 0
    due = (stack.clock.now() + timedelta(days=7)).date().isoformat()
    assessed = await _cli(
        stack,
        "carer",
        "assess",
        PATIENT,
        "--carer",
        CARER,
        "--need",
        "respite",
        "--review-by",
        due,
        "--by",
        LEAD,
    )
    assert assessed.exit_code == 0, assessed.output

    async def notices() -> list[dict[str, Any]] | None:
        result = await _cli(stack, "huddle", "--team", team, "--json", "--by", LEAD)
        found = json.loads(result.stdout)["notices"]
        return found if any(n["kind"] == "carer_assessment_due" for n in found) else None

    found = await until(notices, what="the assessment notice")
    [due_notice] = [n for n in found if n["kind"] == "carer_assessment_due"]
    assert due_notice["subject"] == f"{PATIENT}/{CARER}"
    board = await _cli(stack, "huddle", "--team", team, "--by", LEAD)
    assert due_notice["text"] in board.output


@pytest.fixture(scope="module")
async def api(stack: Stack, team: str) -> AsyncIterator[TestClient[Any, Any]]:
    tokens = f"{stack.settings.api_tokens},{TOKEN}"
    services = replace(
        stack.services, settings=stack.settings.model_copy(update={"api_tokens": tokens})
    )
    async with TestClient(TestServer(make_web_app(services))) as client:
        yield client


async def test_the_api_lists_a_clients_carers_with_the_consent_in_force(
    stack: Stack, team: str, bundle: Path, api: TestClient[Any, Any]
) -> None:
    """GET /api/clients/{id}/carers: the carer and what may be shared; the read is recorded;
    another team's client is 404."""
    assert (
        await _cli(stack, "import", "fhir", str(bundle), "--team", team, "--by", LEAD)
    ).exit_code == 0
    headers = {"Authorization": "Bearer imp-lead"}
    before = await spool_total(stack, TEAM)
    resp = await api.get(f"/api/clients/{PATIENT}/carers", headers=headers)
    assert resp.status == 200
    body = await resp.json()
    [carer] = body["carers"]
    assert carer["carer_id"] == CARER and carer["relationship"] == "mother"
    assert carer["consent"]["shares"] == ["crisis_status"]
    assert await spool_total(stack, TEAM) == before + 1
    other = await api.get("/api/clients/c-01/carers", headers=headers)
    assert other.status == 404
