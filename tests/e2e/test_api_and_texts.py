"""Crisis texts, and the team-scoped API that shows a dispatch to its own team only."""

from __future__ import annotations

import aiohttp

from dispatch.demo.seed import CARERS, TEAM_ID
from dispatch.stack.runtime import Stack
from integrations.twilio.sandbox import SandboxPhones
from tests.e2e.helpers import code_of, last_index, next_page, on_duty_primary, until


async def test_carer_text_to_crisis_line_pages_on_duty_worker(
    stack: Stack, phones: SandboxPhones
) -> None:
    """A carer's text to the crisis line is answered and pages the on-duty worker."""
    primary = await on_duty_primary(stack)
    carer_phone = CARERS["c-06"][0]
    after = last_index(stack)
    status, reply = await phones.send_sms(
        carer_phone, stack.settings.crisis_line_number, "He has not slept for three days"
    )
    assert status == 200 and "reached the crisis team" in reply
    sms = await next_page(phones, primary.phone, after=after, timeout=20)
    assert "crisis text (carer)" in sms["body"]
    assert "slept" not in sms["body"]
    row = await until(
        lambda: stack.read_models.dispatch_by_code(code_of(sms["body"])), what="dispatch row"
    )
    assert row.client_id == "c-06" and row.caller_kind == "carer" and row.reason == "crisis_text"


async def _get(stack: Stack, path: str, token: str | None) -> tuple[int, dict[str, object]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{stack.settings.public_base_url}{path}", headers=headers) as resp,
    ):
        body = await resp.json() if resp.content_type == "application/json" else {}
        return resp.status, body


async def test_api_is_authenticated_and_team_scoped(stack: Stack, phones: SandboxPhones) -> None:
    """No token: 401 (JSON); another team's token: not found; own team: the dispatch and
    its timeline."""
    primary = await on_duty_primary(stack)
    after = last_index(stack)
    await phones.place_call("+15557770002", stack.settings.crisis_line_number)
    code = code_of((await next_page(phones, primary.phone, after=after, timeout=20))["body"])
    await until(lambda: stack.read_models.dispatch_by_code(code), what="dispatch row")

    assert (await _get(stack, "/api/dispatches", None)) == (
        401,
        {"error": "send Authorization: Bearer <token>", "field": "Authorization"},
    )
    assert (await _get(stack, "/api/dispatches", "wrong-token"))[0] == 401
    status, missing = await _get(stack, f"/api/dispatches/{code}", "other-team-token")
    assert (status, missing["field"]) == (404, "code")
    status, listing = await _get(stack, "/api/dispatches", "north-lead-token")
    assert status == 200 and listing["team_id"] == TEAM_ID
    assert code in {d["short_code"] for d in listing["dispatches"]}  # type: ignore[attr-defined]
    status, detail = await _get(stack, f"/api/dispatches/{code}", "north-lead-token")
    assert status == 200
    assert detail["dispatch"]["short_code"] == code  # type: ignore[index]
    assert [e["type"] for e in detail["timeline"]][:1] == ["CrisisCallReceived"]  # type: ignore[attr-defined]
    reads = await stack.pool.fetchval(
        """SELECT count(*) FROM ingress_spool
           WHERE convert_from(value, 'UTF8')::jsonb->>'type' = 'ClientRecordsViewed'
             AND convert_from(value, 'UTF8')::jsonb->'payload'->>'view' = $1""",
        f"dispatch:{code}",
    )
    assert reads == 1, "the one successful read of the dispatch is itself an event"
