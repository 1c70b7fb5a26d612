"""The team's daily facts through the team API on the real stack, as a team would notice
them: a transfer handed off at the new team's first visit (both teams agree), a discharge
and a quick re-referral, a care-plan review, a carer's consent granted and withdrawn, a
carer's assessment, and staff joining (command and API), paged, taking a call, leaving."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient, TestServer

from dispatch.replies.desk import LEFT_THE_TEAM
from dispatch.stack.runtime import Stack
from dispatch.web.app import make_web_app
from integrations.twilio.sandbox import SandboxPhones
from tests.e2e.helpers import code_of, last_index, next_page, reply_by_sms, until
from tests.e2e.team_api import board_row, call, cli, history, recorded
from tests.e2e.team_seed import TeamSeed
from tests.e2e.test_preferences import settle_team

EAST, WEST = "jt-east", "jt-west"
LINES = {EAST: "+15005550083", WEST: "+15005550084"}
E_LEAD, E_NURSE, W_LEAD, W_NURSE = "s-jte-lead", "s-jte-nurse", "s-jtw-lead", "s-jtw-nurse"
PHONES = {E_LEAD: "+15550830001", E_NURSE: "+15550830002",
          W_LEAD: "+15550830003", W_NURSE: "+15550830004"}  # fmt: skip
CALLER, CALLER_PHONE = "c-jte-call", "+15550830101"
BY_CLI, BY_API = "s-jte-cli", "s-jte-api"  # who join by command and through the API
JOINER_PHONES = {BY_CLI: "+15550830401", BY_API: "+15550830402"}
TOKENS = ",".join([
    f"jte-lead:{EAST}:team_lead:{E_LEAD}", f"jte-nurse:{EAST}:nurse:{E_NURSE}",
    f"jtw-lead:{WEST}:team_lead:{W_LEAD}", f"jtw-nurse:{WEST}:nurse:{W_NURSE}",
    f"jte-new:{EAST}:social_worker:{BY_API}",
])  # fmt: skip


@pytest.fixture(scope="module")
async def api(stack: Stack) -> AsyncIterator[TestClient[Any, Any]]:
    """Two ACT teams of their own (a lead and a nurse on primary each, a client who calls
    the east line) and the stack's web edge with their tokens; afterwards the east team's
    dispatches are closed and their pages settled."""
    events = []
    for team, (lead, nurse), n in ((EAST, (E_LEAD, E_NURSE), 3), (WEST, (W_LEAD, W_NURSE), 4)):
        seed = TeamSeed(stack.clock.now(), team)
        seed.team(name=team, fallback_number=f"+1500555018{n}", crisis_line_number=LINES[team])
        seed.staff(lead, phone=PHONES[lead], role="team_lead", gender="female",
                   display_name=lead)  # fmt: skip
        seed.staff(nurse, phone=PHONES[nurse], role="nurse", gender="male", display_name=nurse)
        seed.shift(nurse, "primary")
        events += seed.events
    caller = TeamSeed(stack.clock.now(), EAST)
    caller.client(CALLER, phone=CALLER_PHONE)
    await stack.publisher.publish([*events, *caller.events])
    await stack.projector.wait_until_caught_up(timeout=30)
    services = replace(stack.services, settings=stack.settings.model_copy(
        update={"api_tokens": TOKENS}))  # fmt: skip
    async with TestClient(TestServer(make_web_app(services))) as client:
        yield client
    await settle_team(stack, EAST, PHONES[E_LEAD])


async def _enrol(api: Any, client_id: str, phone: str, token: str, **more: Any) -> None:
    body = {"display_name": client_id, "phones": [phone], **more}
    status, done = await call(api, "POST", f"/api/clients/{client_id}/enrolment", body,
                               token=token)  # fmt: skip
    assert (status, recorded(done)) == (202, ["ClientEnrolled"]), done
    await until(lambda: board_row(api, client_id, token), what=f"{client_id} on the board")


async def test_a_transfer_is_handed_off_at_the_new_teams_first_visit_and_both_teams_agree(
    stack: Stack, api: Any
) -> None:
    """East asks West to take the client over: both boards show the hand-off, East keeps
    contact meanwhile, West's first visit completes it (the answer says so), and then the
    client, their carers and their history are West's, no longer East's."""
    client_id, base = "c-jt-move", "/api/clients/c-jt-move"
    await _enrol(api, client_id, "+15550830102", "jte-nurse")
    move = {"to_team_id": WEST, "reason": "moved across town"}
    status, asked = await call(api, "POST", f"{base}/transfer", move, token="jte-nurse")
    assert (status, recorded(asked)) == (202, ["ClientTransferRequested"]), asked

    async def hand_off(token: str, shown: str | None) -> Any:
        row = await board_row(api, client_id, token)
        return row if row is not None and row["transfer"] == shown else None

    await until(lambda: hand_off("jte-nurse", f"to {WEST}"), what="hand-off on East's board")
    await until(lambda: hand_off("jtw-nurse", f"from {EAST}"), what="hand-off on West's board")
    phoned = {"kind": "phone", "staff_ids": [E_NURSE], "minutes": 10}
    status, kept = await call(api, "POST", f"{base}/contacts", phoned, token="jte-nurse")
    assert (status, recorded(kept)) == (202, ["ContactRecorded"]), kept  # East keeps contact
    visit = {"kind": "face_to_face", "staff_ids": [W_NURSE], "where": "home"}
    status, seen = await call(api, "POST", f"{base}/contacts", visit, token="jtw-nurse")
    assert (status, recorded(seen)) == (202, ["ContactRecorded", "TransferCompleted"]), seen

    await until(lambda: hand_off("jtw-nurse", None), what="West's client")
    await until(lambda: _gone(api, client_id, "jte-nurse"), what="off East's board")
    late = await call(api, "POST", f"{base}/contacts", phoned, token="jte-nurse")
    assert (late[0], late[1]["field"]) == (404, "client_id"), late
    assert (await call(api, "GET", f"{base}/carers", token="jtw-nurse"))[0] == 200
    assert (await call(api, "GET", f"{base}/carers", token="jte-nurse"))[0] == 404
    status, types = await history(api, client_id, "jtw-lead")
    assert status == 200 and types[:3] == [
        "ClientEnrolled", "ClientTransferRequested", "ContactRecorded"], types  # fmt: skip
    assert sorted(types[3:]) == ["ContactRecorded", "TransferCompleted"]  # same event time
    assert (await history(api, client_id, "jte-lead"))[0] == 404
    assert (await _caseload(api, "jtw-lead"), await _caseload(api, "jte-lead")) == (1, 1)
    at = quote(stack.clock.now().isoformat())
    status, then = await call(api, "GET", f"/api/review/as-of?at={at}", token="jtw-lead")
    assert status == 200 and {c["client_id"]: c["team_id"] for c in then["clients"]} == {
        client_id: WEST}, then  # fmt: skip


async def test_a_care_plan_review_a_discharge_and_a_quick_re_referral(
    stack: Stack, api: Any
) -> None:
    """A care plan recorded an hour ago is reviewed now: the next review falls six months
    from now. The discharge takes the client off the board with their history kept; the
    re-referral puts them back in one step, with the same care coordinator."""
    client_id, base = "c-jt-back", "/api/clients/c-jt-back"
    now = stack.clock.now().replace(microsecond=0)
    await _enrol(api, client_id, "+15550830103", "jte-nurse", care_coordinator_id=E_NURSE,
                 occurred_at=(now - timedelta(hours=2)).isoformat())  # fmt: skip
    plan = {"summary": "tenancy, medication", "occurred_at": (now - timedelta(hours=1)).isoformat()}
    assert (await call(api, "POST", f"{base}/care-plan", plan, token="jte-nurse"))[0] == 202
    due = now - timedelta(hours=1) + timedelta(days=182)
    await until(lambda: _review_due(api, client_id, due), what="care plan due")
    review = {"note": "goals kept", "occurred_at": now.isoformat()}
    status, done = await call(api, "POST", f"{base}/care-plan/review", review, token="jte-nurse")
    assert (status, recorded(done)) == (202, ["CarePlanReviewed"]), done
    row = await until(lambda: _review_due(api, client_id, now + timedelta(days=182)),
                      what="next review six months on")  # fmt: skip
    assert row["care_plan_review_overdue"] is False

    caseload = await _caseload(api, "jte-lead")
    leaving = {"reason": "recovered, back to the GP", "client_involved": True}
    status, left = await call(api, "POST", f"{base}/team-discharge", leaving, token="jte-nurse")
    assert (status, recorded(left)) == (202, ["ClientDischarged"]), left
    await until(lambda: _gone(api, client_id, "jte-nurse"), what="off the caseload")
    status, types = await history(api, client_id, "jte-lead")
    assert status == 200 and types[-2:] == ["CarePlanReviewed", "ClientDischarged"], types
    assert await _caseload(api, "jte-lead") == caseload - 1

    back = {"source": "cmht", "source_team": "CMHT West", "reason": "early warning signs"}
    status, again = await call(api, "POST", f"{base}/re-referral", back, token="jte-nurse")
    assert (status, recorded(again)) == (202, ["ClientReReferred"]), again
    row = await until(lambda: board_row(api, client_id, "jte-nurse"), what="back on the caseload")
    assert row["care_coordinator_id"] == E_NURSE
    assert await _caseload(api, "jte-lead") == caseload  # counted in the team's figures again
    assert await history(api, client_id, "jte-lead") == (200, [
        "ClientEnrolled", "CarePlanRecorded", "CarePlanReviewed", "ClientDischarged",
        "ClientReReferred"])  # fmt: skip


async def _caseload(api: Any, token: str) -> int:
    """How many clients the team's review figures count on its caseload now."""
    status, figures = await call(api, "GET", "/api/review/team", token=token)
    assert status == 200, figures
    return int(figures["clients"])


async def _review_due(api: Any, client_id: str, due: datetime) -> Any:
    row = await board_row(api, client_id, "jte-nurse")
    shown = row and row["care_plan_review_due"]
    return row if shown and datetime.fromisoformat(shown) == due else None


async def _gone(api: Any, client_id: str, token: str) -> bool:
    return await board_row(api, client_id, token) is None


async def test_a_carers_consent_granted_then_revoked_and_their_own_assessment(
    stack: Stack, api: Any
) -> None:
    """A carer is added with no consent; the consent granted is shown in force and their
    signal is taken; once revoked, none is shown and their next signal is refused. Their
    own assessment, offering support, shows on the board as its review comes due."""
    client_id, carer = "c-jt-carer", "k-jt-dad"
    base, carers = f"/api/clients/{client_id}", f"/api/clients/{client_id}/carers"
    await _enrol(api, client_id, "+15550830104", "jte-nurse")
    who = {"carer_id": carer, "display_name": "Dad", "phone": "+15550830201",
           "relationship": "parent"}  # fmt: skip
    status, added = await call(api, "POST", carers, who, token="jte-nurse")
    assert status == 202 and added["type"] == "CarerRegistered", added
    await until(lambda: _consent(api, carers, carer, present=False), what="carer listed")

    review_by = (stack.clock.now() + timedelta(days=90)).date().isoformat()
    grant = {"shares": ["crisis_status", "appointments"], "review_by": review_by}
    status, granted = await call(api, "POST", f"{carers}/{carer}/consent", grant,
                                  token="jte-nurse")  # fmt: skip
    assert status == 202 and granted["in_force"] is True, granted
    consent = (await _consent(api, carers, carer, present=True))["consent"]
    assert consent["shares"] == ["crisis_status", "appointments"]
    assert consent["review_by"] == review_by and consent["review_overdue"] is False
    signal = {"source": "carer", "sign": "sleep_loss", "severity": 2, "carer_id": carer}
    assert (await call(api, "POST", f"{base}/signals", signal, token="jte-nurse"))[0] == 202

    revoke = {"reason": "the client asked"}
    status, revoked = await call(api, "POST", f"{carers}/{carer}/consent/revoke", revoke,
                                  token="jte-nurse")  # fmt: skip
    assert status == 202 and revoked["in_force"] is True, revoked
    assert await _consent(api, carers, carer, present=False)
    status, refused = await call(api, "POST", f"{base}/signals", {**signal, "sign": "withdrawn"},
                                  token="jte-nurse")  # fmt: skip
    assert (status, refused["field"]) == (403, "carer_id"), refused

    soon = (stack.clock.now() + timedelta(days=7)).date().isoformat()
    assessment = {"needs": ["respite"], "support": ["carers' group offered"], "review_by": soon}
    status, assessed = await call(api, "POST", f"{carers}/{carer}/assessment", assessment,
                                   token="jte-nurse")  # fmt: skip
    assert status == 202 and assessed["type"] == "CarerAssessmentRecorded", assessed
    notice = await until(lambda: _assessment_notice(api, f"{client_id}/{carer}"),
                         what="assessment on the board")  # fmt: skip
    assert f"review by {soon}" in notice["text"]
    status, types = await history(api, client_id, "jte-lead")
    assert status == 200 and types[1:3] == ["CarerRegistered", "ConsentGranted"], types
    assert types[3:] == ["RelapseSignalObserved", "ConsentRevoked", "CarerAssessmentRecorded"]


async def _consent(api: Any, path: str, carer_id: str, *, present: bool) -> Any:
    status, found = await call(api, "GET", path, token="jte-nurse")
    assert status == 200, found
    row = next((c for c in found["carers"] if c["carer_id"] == carer_id), None)
    return row if row is not None and (row["consent"] is not None) == present else None


async def _assessment_notice(api: Any, subject: str) -> Any:
    status, board = await call(api, "GET", "/api/huddle", token="jte-nurse")
    assert status == 200, board
    return next((n for n in board["notices"] if n["kind"] == "carer_assessment_due"
                 and n["subject"] == subject), None)  # fmt: skip


async def test_staff_joining_by_command_and_api_are_paged_and_act_until_they_leave(
    stack: Stack, api: Any, phones: SandboxPhones
) -> None:
    """One joins by `dispatch staff join`, one through the API: both are on the roster and
    covering the rota. A crisis call rings and pages the first, who passes it on; the second
    is paged and takes it through the API. Once the second has left (`dispatch staff
    leave`), their replies are refused by the API and by SMS."""
    joined = await cli(stack, "staff", "join", "--team", EAST, "--staff", BY_CLI, "--name",
                        "New nurse", "--role", "nurse", "--phone", JOINER_PHONES[BY_CLI],
                        "--by", E_LEAD)  # fmt: skip
    assert joined.exit_code == 0 and "StaffJoined" in joined.output, joined.output
    newcomer = {"staff_id": BY_API, "display_name": "New social worker",
                "role": "social_worker", "phone": JOINER_PHONES[BY_API]}  # fmt: skip
    status, body = await call(api, "POST", "/api/staff", newcomer, token="jte-lead")
    assert status == 202, body
    await until(lambda: _roster(api, {BY_CLI: True, BY_API: True}), what="both on the roster")

    now = stack.clock.now()
    for staff_id, layer in ((BY_CLI, "primary"), (BY_API, "backup")):
        cover = {"layer": layer, "staff_id": staff_id, "starts_at": now.isoformat(),
                 "ends_at": (now + timedelta(hours=1)).isoformat()}  # fmt: skip
        status, body = await call(api, "POST", "/api/rota/overrides", cover, token="jte-lead")
        assert status == 202, body
    await until(lambda: _on_call(api, BY_CLI, BY_API), what="the newcomers on call")

    after = last_index(stack)
    status, twiml = await phones.place_call(CALLER_PHONE, LINES[EAST])
    assert status == 200 and f"<Number>{JOINER_PHONES[BY_CLI]}</Number>" in twiml, twiml
    code = code_of((await next_page(phones, JOINER_PHONES[BY_CLI], after=after))["body"])
    after = last_index(stack)
    await reply_by_sms(stack, phones, JOINER_PHONES[BY_CLI], f"ESC {code}")
    assert code_of((await next_page(phones, JOINER_PHONES[BY_API], after=after))["body"]) == code
    status, taken = await call(api, "POST", f"/api/dispatches/{code}/ack", token="jte-new")
    assert status == 202 and taken["decision"] == "accepted", taken

    left = await cli(stack, "staff", "leave", "--team", EAST, "--staff", BY_API, "--reason",
                      "moved trust", "--by", E_LEAD)  # fmt: skip
    assert left.exit_code == 0 and "in force now" in left.output, left.output
    status, body = await call(api, "POST", f"/api/dispatches/{code}/resolve",
                               {"outcome": "seen, safe"}, token="jte-new")  # fmt: skip
    assert status == 403 and "left the team" in body["error"], body
    status, twiml = await phones.send_sms(JOINER_PHONES[BY_API], stack.settings.twilio_from_number,
                                          f"DONE {code} safe")  # fmt: skip
    assert status == 200 and LEFT_THE_TEAM in twiml, twiml
    assert await _roster(api, {BY_CLI: True, BY_API: False})  # the leaver stays listed


async def _roster(api: Any, staying: dict[str, bool]) -> bool:
    """The roster lists these staff, each still on the team (True) or gone (False)."""
    status, roster = await call(api, "GET", "/api/staff", token="jte-nurse")
    assert status == 200, roster
    listed = {s["staff_id"]: s["left_at"] is None for s in roster["staff"]}
    return all(listed.get(staff_id) is on for staff_id, on in staying.items())


async def _on_call(api: Any, primary: str, backup: str) -> bool:
    status, duty = await call(api, "GET", "/api/oncall", token="jte-nurse")
    assert status == 200, duty
    on = [(duty[layer] or {}).get("staff_id") for layer in ("primary", "backup")]
    return on == [primary, backup]
