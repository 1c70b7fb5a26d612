"""The dispatch action API: validation, request ids, decisions, and the handlers over fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from dispatch.replies.desk import Decision
from dispatch.settings import Settings
from dispatch.web.dispatch_api import Action, ResolveBody, parse_action, request_id
from dispatch.web.http import ApiError
from dispatch.web.schema import NoInput, parse_json
from tests.unit.api_fakes import DISPATCH_ID, auth, fake_api


# --- pure parts ----------------------------------------------------------------------------
def test_resolve_needs_an_outcome() -> None:
    """resolve without an outcome, with an empty one or a non-string one names `outcome`."""
    for body in (b"", b"{}", b'{"outcome": "   "}', b'{"outcome": 3}', b'{"outcome": null}'):
        with pytest.raises(ApiError) as err:
            parse_json(ResolveBody, body)
        assert (err.value.status, err.value.field) == (400, "outcome")


def test_outcome_is_normalised_and_bounded() -> None:
    """Whitespace in an outcome is collapsed; more than 200 characters is refused."""
    body = parse_json(ResolveBody, b'{"outcome": " visited,\\n  safe "}')
    assert parse_action("resolve", "k7m2q", body.outcome) == Action(
        verb="resolve", code="K7M2Q", outcome="visited, safe"
    )
    with pytest.raises(ApiError, match="outcome"):
        parse_json(ResolveBody, b'{"outcome": "' + b"x" * 201 + b'"}')


@pytest.mark.parametrize(
    ("model", "body", "field"),
    [
        (NoInput, b"not json", "body"),
        (NoInput, b"[1]", "body"),
        (NoInput, b'{"outcome": "x"}', "outcome"),
        (NoInput, b'{"staff_id": "s-2"}', "staff_id"),
        (ResolveBody, b'{"outcome": "ok", "extra": 1}', "extra"),
    ],
)
def test_bad_body_names_the_field(model: Any, body: bytes, field: str) -> None:
    """Every malformed body is refused (400) naming the offending field."""
    with pytest.raises(ApiError) as err:
        parse_json(model, body)
    assert (err.value.status, err.value.field) == (400, field)


@pytest.mark.parametrize("code", ["K7M2", "K7M2Q!", "K7M2QQ"])
def test_bad_code_names_the_code(code: str) -> None:
    """A path code that cannot be a dispatch code is refused naming `code`."""
    with pytest.raises(ApiError) as err:
        parse_action("ack", code)
    assert (err.value.status, err.value.field) == (400, "code")


def test_codes_are_read_as_typed_on_a_phone() -> None:
    """Lower case and look-alike letters are normalised like SMS replies (o -> 0)."""
    assert parse_action("ack", "k7m2o").code == "K7M20"


def test_request_id_is_stable_and_scoped() -> None:
    """The same request gives the same id; another token, verb, code, body or key another."""
    ack = Action(verb="ack", code="K7M2Q")
    one = request_id(token="a", action=ack, body=b"", idempotency_key=None)
    assert one == request_id(token="a", action=ack, body=b"", idempotency_key=None)
    assert one != request_id(token="b", action=ack, body=b"", idempotency_key=None)
    assert one != request_id(token="a", action=replace(ack, verb="esc"), body=b"",
                             idempotency_key=None)  # fmt: skip
    keyed = request_id(token="a", action=ack, body=b"", idempotency_key="k-1")
    assert keyed == request_id(token="a", action=ack, body=b"{}", idempotency_key="k-1")
    assert keyed != one
    other_code = Action(verb="ack", code="ABCDE")
    assert keyed != request_id(token="a", action=other_code, body=b"", idempotency_key="k-1")
    with pytest.raises(ApiError, match="Idempotency-Key"):
        request_id(token="a", action=ack, body=b"", idempotency_key=" ")


# --- handlers over fakes -------------------------------------------------------------------
@pytest.fixture
async def api() -> AsyncIterator[Any]:
    async with fake_api() as parts:
        yield parts


async def test_ack_records_one_reply_once(api: Any) -> None:
    """POST ack spools one StaffReplyReceived by the token's staff member for the dispatch's
    agent to decide; a retry adds nothing; undecided within the wait, it is "pending"."""
    client, _, spool = api
    first = await client.post("/api/dispatches/k7m2q/ack", headers=auth("t1-nurse"))
    body = await first.json()
    assert first.status == 202 and body["duplicate"] is False and body["decision"] == "pending"
    again = await client.post("/api/dispatches/K7M2Q/ack", headers=auth("t1-nurse"))
    assert again.status == 202 and (await again.json())["duplicate"] is True
    [event] = spool.events.values()
    assert event.type == "StaffReplyReceived" and event.key == str(DISPATCH_ID)
    p = event.payload
    assert (p.staff_id, p.staff_team_id, p.verb, p.channel) == ("s-1", "t-1", "ack", "api")


async def test_an_accepted_action_says_so(api: Any) -> None:
    """The agent accepted the reply within the wait: 202 with decision "accepted"."""
    client, fakes, _ = api
    fakes.decision = Decision(
        accepted=True, reason="", holder="s-1", dispatch_status="acknowledged"
    )
    resp = await client.post("/api/dispatches/K7M2Q/ack", headers=auth("t1-nurse"))
    assert resp.status == 202 and (await resp.json())["decision"] == "accepted"


async def test_idempotency_key_dedups_resolves(api: Any) -> None:
    """Two resolves with the same Idempotency-Key are recorded once."""
    client, _, spool = api
    for _ in range(2):
        resp = await client.post(
            "/api/dispatches/K7M2Q/resolve",
            json={"outcome": "visited, safe"},
            headers=auth("t1-nurse", **{"Idempotency-Key": "req-1"}),
        )
        assert resp.status == 202
    [event] = spool.events.values()
    assert event.payload.verb == "resolve" and event.payload.outcome == "visited, safe"


async def test_token_without_staff_may_not_act(api: Any) -> None:
    """A token naming no staff member gets 403 with the reason and nothing is spooled."""
    client, _, spool = api
    resp = await client.post("/api/dispatches/K7M2Q/ack", headers=auth("t1-read"))
    assert resp.status == 403 and "names no staff member" in (await resp.json())["error"]
    assert not spool.events


async def test_other_teams_dispatch_is_not_found(api: Any) -> None:
    """Another team's token gets 404 for the dispatch and nothing is spooled."""
    client, _, spool = api
    resp = await client.post("/api/dispatches/K7M2Q/esc", headers=auth("t2"))
    assert resp.status == 404 and (await resp.json())["field"] == "code"
    assert not spool.events


async def test_a_refused_action_is_a_conflict_with_the_reason(api: Any) -> None:
    """The agent refused the reply (a colleague has the dispatch): 409 with its reason."""
    client, fakes, _ = api
    reason = "K7M2Q is already taken by a colleague."
    fakes.decision = Decision(
        accepted=False, reason=reason, holder="s-2", dispatch_status="acknowledged"
    )
    resp = await client.post("/api/dispatches/K7M2Q/ack", headers=auth("t1-nurse"))
    assert resp.status == 409 and (await resp.json())["error"] == reason


async def test_bad_body_is_400_naming_the_field(api: Any) -> None:
    """resolve without an outcome: 400 naming `outcome`, nothing spooled."""
    client, _, spool = api
    resp = await client.post(
        "/api/dispatches/K7M2Q/resolve", json={"result": "x"}, headers=auth("t1-nurse")
    )
    assert resp.status == 400 and (await resp.json())["field"] == "result"
    assert not spool.events


async def test_missing_or_unknown_token_is_401_json(api: Any) -> None:
    """No bearer token or an unknown one: 401 as JSON naming the Authorization header."""
    client, _, spool = api
    for headers in ({}, auth("nobody")):
        resp = await client.post("/api/dispatches/K7M2Q/ack", headers=headers)
        assert resp.status == 401
        assert (await resp.json())["field"] == "Authorization"
    assert not spool.events


async def test_strict_body_is_checked_after_the_token(api: Any) -> None:
    """An unauthenticated request with a bad body is 401, not 400: who asks comes first."""
    client, _, _ = api
    resp = await client.post("/api/dispatches/K7M2Q/resolve", json={"outcome": 3})
    assert resp.status == 401


def test_token_table_is_backwards_compatible() -> None:
    """API_TOKENS entries with and without a staff id parse; a short entry is refused."""
    table = Settings(api_tokens="a:t:nurse, b:t:nurse:s-1").api_token_table()
    assert [(e.team_id, e.role, e.staff_id, e.hashed) for e in table] == [
        ("t", "nurse", None, False),
        ("t", "nurse", "s-1", False),
    ]
    with pytest.raises(ValueError, match="token:team_id:role"):
        Settings(api_tokens="a:t").api_token_table()
