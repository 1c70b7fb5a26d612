"""The client journey on the real stack: an Assertive Outreach client from referral to
discharge and quick re-referral (commands and the team API alike), a visit closing an
outreach task, and a post-crisis follow-up opened by a resolved crisis call."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner, Result

from dispatch.cli import main
from dispatch.clients.events import CarerRegistered
from dispatch.clients.inputs import EnrolInput
from dispatch.demo.seed import TEAM_ID as NORTH
from dispatch.events import new_event
from dispatch.stack.runtime import Stack
from dispatch.web.app import make_web_app
from integrations.twilio.sandbox import SandboxPhones
from tests.e2e.helpers import (
    code_of,
    last_index,
    next_page,
    on_duty_primary,
    pages_settled,
    reply_by_sms,
    spool_total,
    until,
)
from tests.e2e.team_seed import TeamSeed

TEAM = "aot-journey"
LINE = "+15005550095"
LEAD, NURSE, SOCIAL = "s-j-lead", "s-j-nurse", "s-j-social"
TOKENS = "j-nurse:aot-journey:nurse:s-j-nurse,j-north:act-north:nurse:s-nurse"


@pytest.fixture(scope="module")
async def aot_team(stack: Stack) -> str:
    """An Assertive Outreach team of its own: a lead, a nurse and a social worker."""
    seed = TeamSeed(stack.clock.now(), TEAM)
    seed.team(name="AOT Journey", fallback_number="+15005550191", crisis_line_number=LINE,
              service_model="AOT")  # fmt: skip
    for n, (staff_id, role) in enumerate(
        ((LEAD, "team_lead"), (NURSE, "nurse"), (SOCIAL, "social_worker")), start=1
    ):
        seed.staff(staff_id, phone=f"+155509500{n:02d}", role=role, gender="female",  # type: ignore[arg-type]
                   display_name=role)  # fmt: skip
    seed.shift(NURSE, "primary")
    await stack.publisher.publish(seed.events)
    await stack.projector.wait_until_caught_up(timeout=20)
    return TEAM


@pytest.fixture(scope="module")
async def api(stack: Stack) -> AsyncIterator[TestClient[Any, Any]]:
    """The stack's web app, with tokens naming staff of these teams."""
    tokens = f"{stack.settings.api_tokens},{TOKENS}"
    settings = stack.settings.model_copy(update={"api_tokens": tokens})
    services = replace(stack.services, settings=settings)
    async with TestClient(TestServer(make_web_app(services))) as client:
        yield client


async def _call(api: Any, method: str, path: str, body: Any = None, token: str = "j-nurse") -> Any:
    resp = await api.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})
    return resp.status, await resp.json()


async def _cli(stack: Stack, *args: str) -> Result:
    env = {"DATABASE_URL": stack.settings.database_url,
           "KAFKA_BOOTSTRAP_SERVERS": stack.settings.kafka_bootstrap_servers}  # fmt: skip
    return await asyncio.to_thread(CliRunner().invoke, main, list(args), env=env)


async def _row(api: Any, client_id: str, token: str = "j-nurse") -> Any:
    status, board = await _call(api, "GET", "/api/huddle", token=token)
    assert status == 200
    return next((c for c in board["clients"] if c["client_id"] == client_id), None)


async def test_the_life_of_an_outreach_client_from_referral_to_discharge_and_re_referral(
    stack: Stack, aot_team: str, api: Any
) -> None:
    """A self-referral is refused with the reason; a CMHT's is received, accepted, the client
    enrolled, visited by two staff (counted for each), given a care plan, visited with a
    consented carer, discharged with that carer involved, and back on the caseload in one
    step with the history kept."""
    client_id = "c-aot-life"
    base = f"/api/clients/{client_id}"
    own = {"display_name": "Client L", "source": "self", "criteria_met": ["complex_needs"]}
    status, body = await _call(api, "POST", f"{base}/referral", own)
    assert (status, body["field"]) == (400, "source") and "self-referral" in body["error"]
    assert await spool_total(stack, client_id) == 0

    referred = await _cli(stack, "referral", "receive", client_id, "--team", TEAM, "--name",
                          "Client L", "--source", "cmht", "--source-team", "CMHT East",
                          "--criterion", "severe_mental_illness", "--by", LEAD)  # fmt: skip
    assert referred.exit_code == 0 and "recorded ReferralReceived" in referred.output
    assert (await _call(api, "POST", f"{base}/referral/accept", {}))[0] == 202
    enrolment = {"care_coordinator_id": NURSE, "phones": ["+15550951001"],
                 "preferred_gender": "female", "cultural_needs": "halal food"}  # fmt: skip
    status, body = await _call(api, "POST", f"{base}/enrolment", enrolment)
    assert status == 202 and body["events"][0]["type"] == "ClientEnrolled"
    elsewhere = await _cli(stack, "contact", client_id, "--kind", "phone", "--staff", "s-nurse",
                           "--by", NURSE)  # fmt: skip
    assert elsewhere.exit_code == 2 and "--staff" in elsewhere.output
    assert "not a member of team" in elsewhere.output
    nowhere = await _cli(stack, "client", "transfer", client_id, "--to", "nowhere", "--by", NURSE)
    assert nowhere.exit_code == 2 and "--to" in nowhere.output
    visit = await _cli(stack, "contact", client_id, "--kind", "face_to_face", "--where", "home",
                       "--minutes", "45", "--staff", NURSE, "--staff", SOCIAL)  # fmt: skip
    assert visit.exit_code == 0, visit.output
    plan = {"summary": "daily living, medication support", "goals": ["keep the tenancy"]}
    assert (await _call(api, "POST", f"{base}/care-plan", plan))[0] == 202
    carer = CarerRegistered(client_id=client_id, carer_id="carer-life", display_name="Carer",
                            phone="+15550951091", relationship="brother",
                            client_consents_to_share=True)  # fmt: skip
    now = stack.clock.now()
    await stack.publisher.publish(
        [new_event(carer, key=client_id, occurred_at=now, recorded_at=now, actor="test")]
    )

    row = await until(lambda: _planned(api, client_id), what="care plan on the board")
    assert row["care_coordinator_id"] == NURSE and row["contact_target_days"] == 3
    status, counts = await _call(api, "GET", "/api/contacts")
    seen = {c["staff_id"]: c["face_to_face"] for c in counts["staff"]}
    assert status == 200 and seen == {LEAD: 0, NURSE: 1, SOCIAL: 1}

    await until(lambda: stack.services.risk_queries.carer_consents(client_id, "carer-life"),
                what="carer projected")  # fmt: skip
    with_carer = await _cli(stack, "contact", client_id, "--kind", "face_to_face", "--staff",
                            NURSE, "--carer", "carer-life")  # fmt: skip
    assert with_carer.exit_code == 0, with_carer.output
    left = await _cli(stack, "client", "discharge", client_id, "--reason", "stable, to CMHT",
                      "--carer", "carer-life", "--by", NURSE)  # fmt: skip
    assert left.exit_code == 0, left.output
    await until(lambda: _gone(api, client_id), what="off the caseload")
    again = await _cli(stack, "client", "discharge", client_id, "--reason", "x", "--by", NURSE)
    assert again.exit_code == 2 and "CLIENT_ID" in again.output and "discharged" in again.output

    back = {"source": "cmht", "source_team": "CMHT East", "reason": "early warning signs"}
    assert (await _call(api, "POST", f"{base}/re-referral", back))[0] == 202
    row = await until(lambda: _row(api, client_id), what="back on the caseload")
    assert row["care_coordinator_id"] == NURSE
    twice = await _cli(stack, "client", "re-refer", client_id, "--source", "cmht",
                       "--source-team", "CMHT East", "--by", NURSE)  # fmt: skip
    assert twice.exit_code == 2 and "not discharged" in twice.output
    history = await stack.read_models.archive(key=client_id)
    assert [e.type for e in history if e.type != "ContactTargetSet"] == [
        "ReferralReceived", "ReferralAccepted", "ClientEnrolled", "ContactRecorded",
        "CarePlanRecorded", "CarerRegistered", "ContactRecorded", "ClientDischarged",
        "ClientReReferred",
    ]  # fmt: skip
    assert [e.payload.get("carer_id") for e in history if e.type == "ContactRecorded"] == [
        None, "carer-life"
    ]  # fmt: skip


async def test_a_declined_referral_and_a_transfer_handed_off_at_the_new_teams_first_visit(
    stack: Stack, aot_team: str, api: Any
) -> None:
    """A CMHT referral declined by command with its reason cannot be enrolled (another is
    declined through the API); a client accepted and enrolled by command, their care plan
    reviewed by command, is transferred to the ACT team by command: both boards show the
    hand-off, the old team's phone call does not complete it, the new team's first visit
    (team API) does, and the client is then the new team's."""
    declined, moving = "c-j-decl", "c-j-move"
    referral = {"display_name": "Client D", "source": "cmht", "source_team": "CMHT East",
                "criteria_met": ["severe_mental_illness"]}  # fmt: skip
    assert (await _call(api, "POST", f"/api/clients/{declined}/referral", referral))[0] == 202
    no = await _cli(stack, "referral", "decline", declined, "--reason", "no psychosis",
                    "--by", LEAD)  # fmt: skip
    assert no.exit_code == 0 and "recorded ReferralDeclined" in no.output, no.output
    enrolment = {"care_coordinator_id": NURSE, "phones": ["+15550951004"]}
    status, body = await _call(api, "POST", f"/api/clients/{declined}/enrolment", enrolment)
    assert status == 400 and "referral" in body["error"], body
    want = [("ReferralReceived", None), ("ReferralDeclined", "no psychosis")]

    async def archived() -> bool:  # the archive is the projector's: it follows the spool
        found = [(e.type, e.payload.get("reason"))
                 for e in await stack.read_models.archive(key=declined)]  # fmt: skip
        assert found == want[: len(found)], found  # in order, nothing else
        return found == want

    await until(archived, what="the referral and its decline archived")
    by_api = f"/api/clients/{declined}-2/referral"
    assert (await _call(api, "POST", by_api, referral))[0] == 202
    status, body = await _call(api, "POST", f"{by_api}/decline", {"reason": "no capacity"})
    assert status == 202 and body["events"][0]["type"] == "ReferralDeclined", body

    base = f"/api/clients/{moving}"
    assert (await _call(api, "POST", f"{base}/referral", referral))[0] == 202
    accepted = await _cli(stack, "referral", "accept", moving, "--by", LEAD)
    assert accepted.exit_code == 0 and "recorded ReferralAccepted" in accepted.output
    enrolled = await _cli(stack, "client", "enrol", moving, "--team", TEAM, "--phone",
                          "+15550951005", "--coordinator", NURSE, "--by", LEAD)  # fmt: skip
    assert enrolled.exit_code == 0 and "recorded ClientEnrolled" in enrolled.output
    assert (await _call(api, "POST", f"{base}/care-plan", {"summary": "tenancy"}))[0] == 202
    await until(lambda: _planned(api, moving), what="care plan on the board")
    reviewed = await _cli(stack, "careplan", "review", moving, "--note", "moving north",
                          "--by", NURSE)  # fmt: skip
    assert reviewed.exit_code == 0 and "recorded CarePlanReviewed" in reviewed.output
    moved = await _cli(stack, "client", "transfer", moving, "--to", NORTH, "--reason",
                       "moved home", "--by", NURSE)  # fmt: skip
    assert moved.exit_code == 0 and "recorded ClientTransferRequested" in moved.output

    async def hand_off(token: str, expected: str | None) -> Any:
        row = await _row(api, moving, token)
        return row if row is not None and row["transfer"] == expected else None

    await until(lambda: hand_off("j-nurse", f"to {NORTH}"), what="hand-off on the old board")
    await until(lambda: hand_off("j-north", f"from {TEAM}"), what="hand-off on the new board")
    contacts = f"{base}/contacts"
    call = {"kind": "phone", "staff_ids": [NURSE], "minutes": 5}
    assert (await _call(api, "POST", contacts, call))[0] == 202  # the old team keeps contact
    visit = {"kind": "face_to_face", "staff_ids": ["s-nurse"], "where": "home"}
    assert (await _call(api, "POST", contacts, visit, "j-north"))[0] == 202
    await until(lambda: hand_off("j-north", None), what="the new team's client")
    await until(lambda: _gone(api, moving), what="off the old team's board")
    archive = await stack.read_models.archive(key=moving)
    types = [e.type for e in archive if e.type != "ContactTargetSet"]
    assert types[-5:-3] == ["CarePlanReviewed", "ClientTransferRequested"]
    # the visit and the completion it caused share their event time: either order
    assert sorted(types[-3:]) == ["ContactRecorded", "ContactRecorded", "TransferCompleted"]
    done = next(e for e in archive if e.type == "TransferCompleted")
    assert done.payload["to_team_id"] == NORTH


async def _planned(api: Any, client_id: str) -> Any:
    row = await _row(api, client_id)
    return row if row and row["care_plan_review_due"] else None


async def _gone(api: Any, client_id: str) -> bool:
    return await _row(api, client_id) is None


async def test_a_visit_closes_the_outreach_task_on_the_board(stack: Stack, api: Any) -> None:
    """Elevated by signs: the board shows outreach due; `dispatch contact` records a visit
    and the board no longer shows it."""
    client_id = "c-j-out"
    enrol = EnrolInput(display_name="Client O", phones=("+15550951002",))
    await stack.services.journey.enrol(client_id, NORTH, enrol, actor="s-lead")
    await until(lambda: _row(api, client_id, "j-north"), what="enrolled")
    now = stack.clock.now()
    for sign, hours in (("sleep_loss", 30), ("withdrawal", 10), ("missed_meds", 0)):
        when = now.replace(microsecond=0) - timedelta(hours=hours)
        signal = {"source": "staff", "sign": sign, "severity": 2, "occurred_at": when.isoformat()}
        path = f"/api/clients/{client_id}/signals"
        assert (await _call(api, "POST", path, signal, "j-north"))[0] == 202
    await until(lambda: _outreach(api, client_id, due=True), what="outreach due")
    visit = await _cli(stack, "contact", client_id, "--kind", "face_to_face", "--staff", "s-nurse")
    assert visit.exit_code == 0, visit.output
    await until(lambda: _outreach(api, client_id, due=False), what="outreach closed")
    types = [e.type for e in await stack.read_models.archive(key=client_id)]
    assert types.count("OutreachTaskClosed") == 1
    await pages_settled(stack, client_id)


async def _outreach(api: Any, client_id: str, *, due: bool) -> bool:
    row = await _row(api, client_id, "j-north")
    return row is not None and bool(row["outreach_due"]) == due


async def test_a_resolved_crisis_call_opens_a_follow_up_that_a_contact_closes(
    stack: Stack, api: Any, phones: SandboxPhones
) -> None:
    """The client calls, the worker takes and closes the dispatch: a follow-up is due within
    24 h on the board; a phone call closes it (the crisis hold stays), a visit ends the hold."""
    client_id, phone = "c-j-fu", "+15550951003"
    enrol = EnrolInput(display_name="Client F", phones=(phone,))
    await stack.services.journey.enrol(client_id, NORTH, enrol, actor="s-lead")
    await until(lambda: stack.read_models.caller_by_phone(phone), what="enrolled")
    await until(lambda: _row(api, client_id, "j-north"), what="on the board")
    primary = await on_duty_primary(stack)
    after = last_index(stack)
    assert (await phones.place_call(phone, stack.settings.crisis_line_number))[0] == 200
    code = code_of((await next_page(phones, primary.phone, after=after))["body"])
    assert "is yours" in await reply_by_sms(stack, phones, primary.phone, f"ACK {code}")
    assert "closed" in await reply_by_sms(stack, phones, primary.phone, f"DONE {code} safe")
    await until(lambda: _in_crisis(api, client_id), what="the call's crisis level")
    row = await until(lambda: _follow_up(api, client_id, due=True), what="follow-up due")
    assert row["level"] == "crisis"
    call = {"kind": "phone", "staff_ids": ["s-nurse"], "minutes": 10}
    contacts = f"/api/clients/{client_id}/contacts"
    assert (await _call(api, "POST", contacts, call, "j-north"))[0] == 202
    row = await until(lambda: _follow_up(api, client_id, due=False), what="follow-up closed")
    assert row["level"] == "crisis"
    visit = {"kind": "face_to_face", "staff_ids": ["s-nurse", "s-peer"], "where": "home"}
    assert (await _call(api, "POST", contacts, visit, "j-north"))[0] == 202
    await until(lambda: _not_crisis(api, client_id), what="crisis hold ended")
    await pages_settled(stack, client_id)


async def _follow_up(api: Any, client_id: str, *, due: bool) -> Any:
    row = await _row(api, client_id, "j-north")
    return row if row is not None and (row["follow_up_due"] is not None) == due else None


async def _in_crisis(api: Any, client_id: str) -> bool:
    """The risk agent folds the call in batches: its level can follow the dispatch's close."""
    row = await _row(api, client_id, "j-north")
    return row is not None and row["level"] == "crisis"


async def _not_crisis(api: Any, client_id: str) -> bool:
    row = await _row(api, client_id, "j-north")
    return row is not None and row["level"] != "crisis"


async def test_the_huddle_as_json_is_json_only(stack: Stack, aot_team: str) -> None:
    """`dispatch huddle --json` prints the board as JSON on stdout and nothing else."""
    result = await _cli(stack, "huddle", "--team", TEAM, "--json", "--by", NURSE)
    assert result.exit_code == 0, result.output
    board = json.loads(result.stdout)
    assert set(board) == {"team_id", "as_of", "clients", "notices"}
    assert all({"client_id", "score", "follow_up_due"} <= set(row) for row in board["clients"])
