"""Carers' consent and staff leaving, on the real stack: a revoked consent changes what a
calling carer hears and whether their signal is accepted at once; a leaver's replies are
refused on every channel, they are never paged again, and the rota's gap is reported."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner

from dispatch.cli import main
from dispatch.crisis import calltree
from dispatch.escalation.events import EscalationPolicySet
from dispatch.escalation.policy import EscalationPolicy, EscalationStep
from dispatch.events import Envelope
from dispatch.replies.desk import LEFT_THE_TEAM
from dispatch.stack.runtime import Stack
from dispatch.web.app import make_web_app
from integrations.twilio.sandbox import SandboxPhones
from tests.e2e.helpers import code_of, last_index, next_page, until
from tests.e2e.team_seed import TeamSeed
from tests.e2e.test_preferences import settle_team

CARERS_TEAM, CARERS_LINE = "i9-carers", "+15005550092"
CLIENT, CLIENT_PHONE = "c-i9a", "+15550920101"
CARER, CARER_PHONE = "k-i9a", "+15550920201"
C_PRIMARY, C_BACKUP, C_LEAD = "s-i9c-p", "s-i9c-b", "s-i9c-lead"
LEAVERS_TEAM, LEAVERS_LINE = "i9-leavers", "+15005550091"
L_CLIENT, L_CLIENT_PHONE = "c-i9l", "+15550910101"
PRIMARY, BACKUP, LEAD, MANAGER = "s-i9l-p", "s-i9l-b", "s-i9l-lead", "s-i9l-mgr"
PHONES = {
    C_PRIMARY: "+15550920001", C_BACKUP: "+15550920002", C_LEAD: "+15550920003",
    PRIMARY: "+15550910001", BACKUP: "+15550910002", LEAD: "+15550910003",
    MANAGER: "+15550910004",
}  # fmt: skip
TOKENS = ",".join(
    [
        f"i9c-lead:{CARERS_TEAM}:team_lead:{C_LEAD}",
        f"i9l-lead:{LEAVERS_TEAM}:team_lead:{LEAD}",
        f"i9l-primary:{LEAVERS_TEAM}:nurse:{PRIMARY}",
    ]
)
POLICY = EscalationPolicy(
    steps=(
        EscalationStep(targets=("primary",), ack_timeout_s=2),
        EscalationStep(targets=("primary",), ack_timeout_s=2),
    ),
    rounds=1,
    exhausted_repeat_s=60,
)


def _seed(stack: Stack) -> list[Envelope]:
    now = stack.clock.now()
    out: list[Envelope] = []
    teams = (
        (CARERS_TEAM, CARERS_LINE, {C_PRIMARY: "nurse", C_BACKUP: "nurse", C_LEAD: "team_lead"},
         CLIENT, CLIENT_PHONE),
        (LEAVERS_TEAM, LEAVERS_LINE, {PRIMARY: "nurse", BACKUP: "social_worker",
                                      LEAD: "team_lead", MANAGER: "manager"},
         L_CLIENT, L_CLIENT_PHONE),
    )  # fmt: skip
    for team_id, line, roles, client_id, phone in teams:
        seed = TeamSeed(now, team_id)
        seed.team(name=team_id, fallback_number="+15005550193", crisis_line_number=line)
        for staff_id, role in roles.items():
            seed.staff(staff_id, phone=PHONES[staff_id], role=role,  # type: ignore[arg-type]
                       gender="unspecified", display_name=staff_id)  # fmt: skip
        primary, backup = list(roles)[:2]
        seed.shift(primary, "primary")
        seed.shift(backup, "backup")
        seed.client(client_id, phone=phone)
        out += seed.events
    policy = TeamSeed(now, LEAVERS_TEAM)
    policy.emit(EscalationPolicySet(team_id=LEAVERS_TEAM, policy=POLICY), LEAVERS_TEAM)
    return out + policy.events


@pytest.fixture(scope="module")
async def api(stack: Stack) -> AsyncIterator[TestClient[Any, Any]]:
    """The stack's web edge with tokens of the two teams; afterwards their dispatches are
    closed and their pages settled."""
    await stack.publisher.publish(_seed(stack))
    await stack.projector.wait_until_caught_up(timeout=30)
    services = replace(
        stack.services, settings=stack.settings.model_copy(update={"api_tokens": TOKENS})
    )
    async with TestClient(TestServer(make_web_app(services))) as client:
        yield client
    await settle_team(stack, CARERS_TEAM, PHONES[C_PRIMARY])
    await settle_team(stack, LEAVERS_TEAM, PHONES[BACKUP])


async def _cli(stack: Stack, *args: str) -> Any:
    env = {
        "DATABASE_URL": stack.settings.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": stack.settings.kafka_bootstrap_servers,
    }
    return await asyncio.to_thread(CliRunner().invoke, main, list(args), env=env)


async def _post(api: TestClient[Any, Any], token: str, path: str, body: Any) -> tuple[int, Any]:
    response = await api.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    return response.status, await response.json()


async def _call_recorded(stack: Stack, after_seq: int) -> dict[str, Any]:
    """The payload of the carer's CrisisCallReceived spooled after `after_seq`."""

    async def found() -> Any:
        return await stack.pool.fetchval(
            """SELECT convert_from(value, 'UTF8')::jsonb->'payload' FROM ingress_spool
               WHERE seq > $1 AND convert_from(value, 'UTF8')::jsonb->>'type'
                                  = 'CrisisCallReceived'
                 AND key = $2 ORDER BY seq LIMIT 1""",
            after_seq,
            CLIENT,
        )

    return dict(json.loads(await until(found, what="carer's call spooled")))


async def _seq(stack: Stack) -> int:
    return int(await stack.pool.fetchval("SELECT coalesce(max(seq), 0) FROM ingress_spool"))


async def test_a_revoked_consent_changes_what_the_carer_hears_and_may_report_at_once(
    stack: Stack, phones: SandboxPhones, api: TestClient[Any, Any]
) -> None:
    """With consent to share crisis status the carer hears it and their signal is taken;
    right after the revocation the next call is routed the same but tells them nothing, the
    call records that, and their signal is refused."""
    added = await _cli(stack, "carer", "add", CLIENT, "--carer", CARER, "--name", "Mum",
                       "--phone", CARER_PHONE, "--relationship", "parent",
                       "--by", C_LEAD)  # fmt: skip
    assert added.exit_code == 0, added.output
    await stack.projector.wait_until_caught_up(timeout=20)
    review = (stack.clock.now() + timedelta(days=90)).date().isoformat()
    granted = await _cli(stack, "consent", "grant", CLIENT, "--carer", CARER, "--share",
                         "crisis_status", "--review-by", review, "--by", C_LEAD)  # fmt: skip
    assert granted.exit_code == 0 and "in force now" in granted.output, granted.output
    signal = {"source": "carer", "sign": "sleep_loss", "severity": 2, "carer_id": CARER}

    before = await _seq(stack)
    status, twiml = await phones.place_call(CARER_PHONE, CARERS_LINE)
    assert status == 200 and f"<Number>{PHONES[C_PRIMARY]}</Number>" in twiml
    assert calltree.CARER in twiml and calltree.CARER_NO_CONSENT not in twiml
    first = await _call_recorded(stack, before)
    assert (first["carer_id"], first["carer_consent"]) == (CARER, ["crisis_status"])
    status, body = await _post(api, "i9c-lead", f"/api/clients/{CLIENT}/signals", signal)
    assert status == 202, body

    revoked = await _cli(stack, "consent", "revoke", CLIENT, "--carer", CARER,
                         "--reason", "client asked", "--by", C_LEAD)  # fmt: skip
    assert revoked.exit_code == 0 and "in force now" in revoked.output, revoked.output

    before = await _seq(stack)
    status, twiml = await phones.place_call(CARER_PHONE, CARERS_LINE)
    assert status == 200 and f"<Number>{PHONES[C_PRIMARY]}</Number>" in twiml  # same routing
    assert calltree.CARER_NO_CONSENT in twiml and calltree.CARER_CRISIS_OPEN not in twiml
    second = await _call_recorded(stack, before)
    assert (second["carer_id"], second["carer_consent"]) == (CARER, [])
    status, body = await _post(api, "i9c-lead", f"/api/clients/{CLIENT}/signals",
                               {**signal, "sign": "withdrawn"})  # fmt: skip
    assert (status, body["field"]) == (403, "carer_id")
    refused = await _cli(stack, "signal", CLIENT, "--source", "carer", "--carer", CARER,
                         "--sign", "withdrawn", "--severity", "2")  # fmt: skip
    assert refused.exit_code == 2 and "no consent" in refused.output


async def test_a_leaver_is_refused_never_paged_and_their_gap_reported(
    stack: Stack, phones: SandboxPhones, api: TestClient[Any, Any]
) -> None:
    """The primary is paged, then leaves: their ACK by SMS and by the API is refused at
    once, the escalation step naming them reports the primary unreachable instead of paging
    them, a new call rings the backup, and the board shows the gap the departure opened."""
    after = last_index(stack)
    status, _ = await phones.place_call(L_CLIENT_PHONE, LEAVERS_LINE)
    assert status == 200
    code = code_of((await next_page(phones, PHONES[PRIMARY], after=after))["body"])
    row = await until(lambda: stack.read_models.dispatch_by_code(code), what="dispatch")

    status, left = await _post(api, "i9l-lead", f"/api/staff/{PRIMARY}/leave",
                               {"reason": "moved to another trust"})  # fmt: skip
    assert status == 202 and left["in_force"] is True, left
    assert left["gaps"] and {g["staff_id"] for g in left["gaps"]} == {PRIMARY}
    gone = last_index(stack)

    status, twiml = await phones.send_sms(
        PHONES[PRIMARY], stack.settings.twilio_from_number, f"ACK {code}"
    )
    assert status == 200 and LEFT_THE_TEAM in twiml
    status, body = await _post(api, "i9l-primary", f"/api/dispatches/{code}/ack", None)
    assert status == 403 and "left the team" in body["error"]

    async def unreachable() -> bool:
        events = await stack.read_models.archive(correlation_id=row.correlation_id)
        return any(e.type == "EscalationTargetUnreachable" and e.payload["target"] == "primary"
                   for e in events)  # fmt: skip

    await until(unreachable, what="escalation reports the primary unreachable")
    status, twiml = await phones.place_call(L_CLIENT_PHONE, LEAVERS_LINE)
    assert status == 200 and f"<Number>{PHONES[BACKUP]}</Number>" in twiml
    assert PHONES[PRIMARY] not in twiml
    await stack.projector.wait_until_caught_up(timeout=20)
    sandbox: Any = stack.sandbox
    pages = [
        m for m in sandbox.messages
        if m.to == PHONES[PRIMARY] and m.index > gone and m.body.startswith("ACT ")
    ]  # fmt: skip
    assert pages == []
    status, taken = await _post(api, "i9l-lead", f"/api/dispatches/{code}/ack", None)
    assert status == 202, taken  # the dispatch is still there to take
    board = await (
        await api.get("/api/huddle", headers={"Authorization": "Bearer i9l-lead"})
    ).json()
    assert any(n["kind"] == "coverage_gap" and PRIMARY in n["text"] for n in board["notices"])
