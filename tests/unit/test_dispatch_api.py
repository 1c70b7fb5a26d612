"""The dispatch action API: validation, request ids, decisions, and the handlers over fakes."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from aiohttp.test_utils import TestClient, TestServer

from dispatch.crisis.decide import DispatchView, ReplyRefused
from dispatch.events import Envelope
from dispatch.ingress.spool import IngressSpool
from dispatch.settings import Settings
from dispatch.web.app import make_web_app
from dispatch.web.context import WebContext
from dispatch.web.dispatch_api import Action, BadInput, decide, parse_action, request_id
from projections.models import Dispatch, StaffMember
from projections.queries import ReadModels

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
DISPATCH_ID = uuid.UUID("00000000-0000-0000-0000-00000000d15a")
CORRELATION = uuid.UUID("00000000-0000-0000-0000-00000000c0de")
VIEW = DispatchView(dispatch_id=DISPATCH_ID, short_code="K7M2Q", status="open",
                    acknowledged_by=None)  # fmt: skip
ROW = Dispatch(
    dispatch_id=DISPATCH_ID, short_code="K7M2Q", team_id="t-1", client_id="c-1",
    caller_kind="client", reason="crisis_call", risk_level="crisis", assigned_staff_id="s-1",
    status="open", opened_at=NOW, acknowledged_at=None, acknowledged_by=None,
    resolved_at=None, resolved_by=None, outcome=None, correlation_id=CORRELATION,
)  # fmt: skip
TOKENS = "t1-nurse:t-1:nurse:s-1,t1-other:t-1:nurse:s-2,t1-read:t-1:team_lead,t2:t-2:nurse:s-9"


# --- pure parts ----------------------------------------------------------------------------
def test_resolve_needs_an_outcome() -> None:
    """resolve without an outcome, with an empty one or a non-string one names `outcome`."""
    for body in (b"", b"{}", b'{"outcome": "   "}', b'{"outcome": 3}'):
        with pytest.raises(BadInput) as err:
            parse_action("resolve", "K7M2Q", body)
        assert err.value.field == "outcome"


def test_outcome_is_normalised_and_bounded() -> None:
    """Whitespace in an outcome is collapsed; more than 200 characters is refused."""
    action = parse_action("resolve", "k7m2q", b'{"outcome": " visited,\\n  safe "}')
    assert action == Action(verb="resolve", code="K7M2Q", outcome="visited, safe")
    with pytest.raises(BadInput, match="outcome"):
        parse_action("resolve", "K7M2Q", b'{"outcome": "' + b"x" * 201 + b'"}')


@pytest.mark.parametrize(
    ("verb", "code", "body", "field"),
    [
        ("ack", "K7M2", b"", "code"),
        ("ack", "K7M2Q!", b"", "code"),
        ("ack", "K7M2Q", b"not json", "body"),
        ("ack", "K7M2Q", b"[1]", "body"),
        ("ack", "K7M2Q", b'{"outcome": "x"}', "outcome"),
        ("esc", "K7M2Q", b'{"staff_id": "s-2"}', "staff_id"),
        ("resolve", "K7M2Q", b'{"outcome": "ok", "extra": 1}', "extra"),
    ],
)
def test_bad_input_names_the_field(verb: Any, code: str, body: bytes, field: str) -> None:
    """Every malformed request is refused naming the offending field."""
    with pytest.raises(BadInput) as err:
        parse_action(verb, code, body)
    assert err.value.field == field


def test_codes_are_read_as_typed_on_a_phone() -> None:
    """Lower case and look-alike letters are normalised like SMS replies (o -> 0)."""
    assert parse_action("ack", "k7m2o", b"").code == "K7M20"


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
    with pytest.raises(BadInput, match="Idempotency-Key"):
        request_id(token="a", action=ack, body=b"", idempotency_key=" ")


def test_decisions_match_the_sms_replies() -> None:
    """ack, esc and resolve yield the same events as ACK, ESC and DONE, marked via=api."""
    kw: dict[str, Any] = {"staff_id": "s-1", "reply_id": "api:1", "now": NOW,
                          "correlation_id": CORRELATION}  # fmt: skip
    assert [e.type for e in decide(VIEW, Action("ack", "K7M2Q"), **kw)] == ["DispatchAcknowledged"]
    assert [e.type for e in decide(VIEW, Action("esc", "K7M2Q"), **kw)] == ["EscalationRequested"]
    done = decide(VIEW, Action("resolve", "K7M2Q", "safe"), **kw)
    assert [e.type for e in done] == ["DispatchAcknowledged", "DispatchResolved"]
    assert all(getattr(e.payload, "via", None) == "api" for e in done)
    assert decide(VIEW, Action("ack", "K7M2Q"), **kw)[0].event_id == done[0].event_id


def test_refusals_match_the_sms_replies() -> None:
    """Taken by a colleague, closed, or nothing to pass on: ReplyRefused with the reason."""
    kw: dict[str, Any] = {"staff_id": "s-1", "reply_id": "api:1", "now": NOW,
                          "correlation_id": CORRELATION}  # fmt: skip
    taken = replace(VIEW, status="acknowledged", acknowledged_by="s-2")
    closed = replace(VIEW, status="resolved", acknowledged_by="s-2")
    with pytest.raises(ReplyRefused, match="taken by a colleague"):
        decide(taken, Action("ack", "K7M2Q"), **kw)
    with pytest.raises(ReplyRefused, match="nothing to pass on"):
        decide(taken, Action("esc", "K7M2Q"), **kw)
    with pytest.raises(ReplyRefused, match="already closed"):
        decide(closed, Action("resolve", "K7M2Q", "ok"), **kw)


# --- handlers over fakes -------------------------------------------------------------------
class FakeReadModels:
    def __init__(self) -> None:
        self.row = ROW

    async def staff(self, staff_id: str) -> StaffMember | None:
        team = {"s-1": "t-1", "s-2": "t-1", "s-9": "t-2"}.get(staff_id)
        if team is None:
            return None
        return StaffMember(staff_id, team, staff_id, "nurse", "female", "+15550000001", ("en",))

    async def dispatch_by_code(self, code: str, *, team_id: str | None = None) -> Dispatch | None:
        ok = code == self.row.short_code and team_id in (None, self.row.team_id)
        return self.row if ok else None


class FakeSpool:
    def __init__(self) -> None:
        self.events: dict[uuid.UUID, Envelope] = {}

    async def record(self, events: Sequence[Envelope]) -> bool:
        fresh = events[0].event_id not in self.events
        self.events.update({e.event_id: e for e in events})
        return fresh


class FixedClock:
    def now(self) -> datetime:
        return NOW


@pytest.fixture
async def api() -> AsyncIterator[tuple[TestClient[Any, Any], FakeReadModels, FakeSpool]]:
    rm, spool = FakeReadModels(), FakeSpool()
    context = WebContext(
        settings=Settings(api_tokens=TOKENS),
        read_models=cast(ReadModels, rm),
        spool=cast(IngressSpool, spool),
        clock=FixedClock(),
        public_base_url="http://test",
    )
    app = make_web_app(context)
    app.on_startup.clear()
    app.on_cleanup.clear()
    async with TestClient(TestServer(app)) as client:
        yield client, rm, spool


def _auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


async def test_ack_records_one_event_once(api: Any) -> None:
    """POST ack spools DispatchAcknowledged by the token's staff member; a retry adds nothing."""
    client, _, spool = api
    first = await client.post("/api/dispatches/k7m2q/ack", headers=_auth("t1-nurse"))
    assert first.status == 202 and (await first.json())["duplicate"] is False
    again = await client.post("/api/dispatches/K7M2Q/ack", headers=_auth("t1-nurse"))
    assert again.status == 202 and (await again.json())["duplicate"] is True
    [event] = spool.events.values()
    assert event.type == "DispatchAcknowledged" and event.payload.staff_id == "s-1"


async def test_idempotency_key_dedups_resolves(api: Any) -> None:
    """Two resolves with the same Idempotency-Key are recorded once."""
    client, _, spool = api
    for _ in range(2):
        resp = await client.post(
            "/api/dispatches/K7M2Q/resolve",
            json={"outcome": "visited, safe"},
            headers=_auth("t1-nurse", **{"Idempotency-Key": "req-1"}),
        )
        assert resp.status == 202
    assert sorted(e.type for e in spool.events.values()) == [
        "DispatchAcknowledged",
        "DispatchResolved",
    ]


async def test_token_without_staff_may_not_act(api: Any) -> None:
    """A token naming no staff member gets 403 with the reason and nothing is spooled."""
    client, _, spool = api
    resp = await client.post("/api/dispatches/K7M2Q/ack", headers=_auth("t1-read"))
    assert resp.status == 403 and "names no staff member" in (resp.reason or "")
    assert not spool.events


async def test_other_teams_dispatch_is_not_found(api: Any) -> None:
    """Another team's token gets 404 for the dispatch and nothing is spooled."""
    client, _, spool = api
    resp = await client.post("/api/dispatches/K7M2Q/esc", headers=_auth("t2"))
    assert resp.status == 404 and not spool.events


async def test_taken_dispatch_is_a_conflict(api: Any) -> None:
    """ack of a dispatch a colleague has taken: 409 with the reason, nothing spooled."""
    client, rm, spool = api
    rm.row = replace(ROW, status="acknowledged", acknowledged_by="s-2")
    resp = await client.post("/api/dispatches/K7M2Q/ack", headers=_auth("t1-nurse"))
    assert resp.status == 409 and "taken by a colleague" in (await resp.json())["error"]
    assert not spool.events


async def test_bad_body_is_400_naming_the_field(api: Any) -> None:
    """resolve without an outcome: 400 naming `outcome`, nothing spooled."""
    client, _, spool = api
    resp = await client.post(
        "/api/dispatches/K7M2Q/resolve", json={"result": "x"}, headers=_auth("t1-nurse")
    )
    assert resp.status == 400 and (await resp.json())["field"] == "result"
    assert not spool.events


async def test_missing_token_is_401(api: Any) -> None:
    """No bearer token: 401."""
    client, _, _ = api
    assert (await client.post("/api/dispatches/K7M2Q/ack")).status == 401


def test_token_table_is_backwards_compatible() -> None:
    """API_TOKENS entries with and without a staff id parse; a short entry is refused."""
    table = Settings(api_tokens="a:t:nurse, b:t:nurse:s-1").api_token_table()
    assert table == {"a": ("t", "nurse", None), "b": ("t", "nurse", "s-1")}
    with pytest.raises(ValueError, match="token:team_id:role"):
        Settings(api_tokens="a:t").api_token_table()


def test_openapi_describes_every_dispatch_route() -> None:
    """Every /api/dispatches route (read and act) is in the OpenAPI document, refs resolve."""
    from dispatch.rota.openapi import OPENAPI
    from dispatch.web import api as read_api
    from dispatch.web import dispatch_api

    for route in [*read_api.routes, *dispatch_api.routes]:
        path = route.path  # type: ignore[attr-defined]
        if path.startswith("/api/dispatches"):
            op = OPENAPI["paths"][path][route.method.lower()]  # type: ignore[attr-defined]
            assert op["operationId"] and op["summary"] and op["responses"]
    text = json.dumps(OPENAPI)
    for ref in re.findall(r'"\$ref": "#/([^"]+)"', text):
        node: Any = OPENAPI
        for part in ref.split("/"):
            node = node[part]
