"""Acting on dispatches through the HTTP API on the real stack (spool, broker, worker,
projection), scoped to the token's team and staff member."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from dispatch.events import Envelope
from dispatch.stack.runtime import Stack
from dispatch.web.app import make_web_app
from integrations.twilio.sandbox import SandboxPhones
from projections.models import Dispatch
from tests.e2e import south_team as south
from tests.e2e.helpers import archive_types, code_of, last_index, next_page, spool_total, until
from tests.e2e.team_seed import TeamSeed
from tests.e2e.test_preferences import settle_team

TEAM = "act-api"
LINE = "+15005550032"
PRIMARY, BACKUP = "s-api-1", "s-api-2"
PHONES = {PRIMARY: "+15550740001", BACKUP: "+15550740002"}
CLIENTS = {f"c-api{i}": f"+1555075000{i}" for i in range(1, 6)}
TOKENS = ",".join(
    [
        f"api-primary:{TEAM}:nurse:{PRIMARY}",
        f"api-backup:{TEAM}:nurse:{BACKUP}",
        f"api-reader:{TEAM}:team_lead",
        f"api-south:{south.TEAM}:nurse:{south.PRIMARY}",
    ]
)


def _team_events(stack: Stack) -> list[Envelope]:
    seed = TeamSeed(stack.clock.now(), TEAM)
    seed.team(name="ACT API", fallback_number="+15005550197", crisis_line_number=LINE)
    for staff_id, layer in ((PRIMARY, "primary"), (BACKUP, "backup")):
        seed.staff(
            staff_id,
            phone=PHONES[staff_id],
            role="nurse",
            gender="unspecified",
            display_name=staff_id,
        )
        seed.shift(staff_id, layer)  # type: ignore[arg-type]
    for client_id, phone in CLIENTS.items():
        seed.client(client_id, phone=phone)
    return seed.events


@pytest.fixture(scope="module")
async def api(stack: Stack) -> AsyncIterator[TestClient[Any, Any]]:
    """The stack's web edge (same read models and spool) with tokens naming staff members;
    afterwards the team's dispatches are closed and its pages settled."""
    await stack.publisher.publish(_team_events(stack))
    await stack.projector.wait_until_caught_up(timeout=30)
    services = replace(
        stack.services, settings=stack.settings.model_copy(update={"api_tokens": TOKENS})
    )
    async with TestClient(TestServer(make_web_app(services))) as client:
        yield client
    await settle_team(stack, TEAM, PHONES[PRIMARY])


async def _open(stack: Stack, phones: SandboxPhones, client: str) -> str:
    """A client of the team calls; returns the code of the dispatch paged to the primary."""
    after = last_index(stack)
    status, _ = await phones.place_call(CLIENTS[client], LINE)
    assert status == 200
    while True:
        sms = await next_page(phones, PHONES[PRIMARY], after=after, timeout=20)
        if sms["body"].startswith("ACT CRISIS"):
            break
        after = sms["index"]
    code = code_of(sms["body"])
    await until(lambda: stack.read_models.dispatch_by_code(code), what="dispatch projected")
    return code


async def _post(
    api: TestClient[Any, Any], path: str, token: str, body: Any = None, **headers: str
) -> tuple[int, dict[str, Any]]:
    resp = await api.post(path, json=body, headers={"Authorization": f"Bearer {token}", **headers})
    data = await resp.json() if resp.content_type == "application/json" else {}
    return resp.status, data


async def _status(stack: Stack, code: str, status: str) -> Dispatch | None:
    row = await stack.read_models.dispatch_by_code(code)
    return row if row is not None and row.status == status else None


async def test_ack_takes_the_dispatch_once_and_refuses_a_colleague(
    stack: Stack, phones: SandboxPhones, api: TestClient[Any, Any]
) -> None:
    """ack by the primary's token takes the dispatch; a retry records nothing more; the
    backup's ack is refused with 409 and the reason."""
    code = await _open(stack, phones, "c-api1")
    for duplicate in (False, True):
        status, body = await _post(api, f"/api/dispatches/{code}/ack", "api-primary")
        assert status == 202 and body["duplicate"] is duplicate
    row = await until(lambda: _status(stack, code, "acknowledged"), what="acknowledged")
    assert row.acknowledged_by == PRIMARY
    assert (await archive_types(stack, row.correlation_id)).count("DispatchAcknowledged") == 1
    status, body = await _post(api, f"/api/dispatches/{code}/ack", "api-backup")
    assert status == 409 and "taken by a colleague" in body["error"]


async def test_other_team_and_readonly_tokens_change_nothing(
    stack: Stack, phones: SandboxPhones, api: TestClient[Any, Any]
) -> None:
    """Another team's token gets 404, a token without a staff id 403; nothing is spooled."""
    code = await _open(stack, phones, "c-api2")
    row = await stack.read_models.dispatch_by_code(code)
    assert row is not None
    spooled = await spool_total(stack, str(row.dispatch_id))
    status, _ = await _post(api, f"/api/dispatches/{code}/ack", "api-south")
    assert status == 404
    status, body = await _post(api, f"/api/dispatches/{code}/esc", "api-reader")
    assert status == 403 and "names no staff member" in body["error"]
    assert spooled == await spool_total(stack, str(row.dispatch_id))
    still = await stack.read_models.dispatch_by_code(code)
    assert still is not None and still.status == "open"


async def test_esc_pages_the_next_step(
    stack: Stack, phones: SandboxPhones, api: TestClient[Any, Any]
) -> None:
    """esc by the paged primary passes the dispatch on: the backup is paged at once."""
    after = last_index(stack)
    code = await _open(stack, phones, "c-api3")
    status, _ = await _post(api, f"/api/dispatches/{code}/esc", "api-primary")
    assert status == 202
    while True:
        sms = await next_page(phones, PHONES[BACKUP], after=after, timeout=20)
        if code in sms["body"]:
            break
        after = sms["index"]
    row = await until(lambda: _escalated(stack, code), what="escalation projected", within_s=20)
    assert row.escalation_sequence == 1


async def _escalated(stack: Stack, code: str) -> Dispatch | None:
    row = await stack.read_models.dispatch_by_code(code)
    return row if row is not None and row.escalation_sequence >= 1 else None


async def test_resolve_closes_with_outcome_and_refuses_bad_or_late_requests(
    stack: Stack, phones: SandboxPhones, api: TestClient[Any, Any]
) -> None:
    """resolve without an outcome, or with a number for it, is 400 naming it; with one it
    closes the dispatch (acked first); the same request again is accepted as a duplicate;
    another outcome is 409."""
    code = await _open(stack, phones, "c-api4")
    path = f"/api/dispatches/{code}/resolve"
    for bad in ({}, {"outcome": 7}):
        status, body = await _post(api, path, "api-primary", bad)
        assert status == 400 and body["field"] == "outcome"
    status, _ = await _post(api, path, "api-primary", {"outcome": "visited, safe"},
                            **{"Idempotency-Key": "resolve-1"})  # fmt: skip
    assert status == 202
    row = await until(lambda: _status(stack, code, "resolved"), what="resolved")
    assert row.resolved_by == PRIMARY and row.outcome == "visited, safe"
    status, body = await _post(api, path, "api-primary", {"outcome": "visited, safe"},
                               **{"Idempotency-Key": "resolve-1"})  # fmt: skip
    assert status == 202 and body["duplicate"] is True
    status, body = await _post(api, path, "api-backup", {"outcome": "other"})
    assert status == 409 and "already closed" in body["error"]
    types = await archive_types(stack, row.correlation_id)
    assert types.count("DispatchResolved") == 1 and types.count("DispatchAcknowledged") == 1
