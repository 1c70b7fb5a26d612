"""The web app over in-memory read models, spool and clock, for tests of the HTTP edge."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, cast

from aiohttp.test_utils import TestClient, TestServer

from dispatch.events import Envelope
from dispatch.ingress.spool import IngressSpool
from dispatch.settings import Settings
from dispatch.web.app import make_web_app
from dispatch.web.context import WebContext
from projections.models import Dispatch, StaffMember
from projections.queries import ReadModels

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
DISPATCH_ID = uuid.UUID("00000000-0000-0000-0000-00000000d15a")
CORRELATION = uuid.UUID("00000000-0000-0000-0000-00000000c0de")
ROW = Dispatch(
    dispatch_id=DISPATCH_ID, short_code="K7M2Q", team_id="t-1", client_id="c-1",
    caller_kind="client", reason="crisis_call", risk_level="crisis", assigned_staff_id="s-1",
    status="open", opened_at=NOW, acknowledged_at=None, acknowledged_by=None,
    resolved_at=None, resolved_by=None, outcome=None, correlation_id=CORRELATION,
)  # fmt: skip
TOKENS = "t1-nurse:t-1:nurse:s-1,t1-other:t-1:nurse:s-2,t1-read:t-1:team_lead,t2:t-2:nurse:s-9"


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

    async def open_dispatches(self, team_id: str) -> list[Dispatch]:
        return [self.row] if team_id == self.row.team_id else []


class FakeSpool:
    def __init__(self) -> None:
        self.events: dict[uuid.UUID, Envelope] = {}

    async def record(self, events: Sequence[Envelope]) -> bool:
        fresh = events[0].event_id not in self.events
        self.events.update({e.event_id: e for e in events})
        return fresh

    async def pending(self) -> int:
        return 0


class FixedClock:
    def now(self) -> datetime:
        return NOW


Client = TestClient[Any, Any]


@asynccontextmanager
async def fake_api() -> AsyncIterator[tuple[Client, FakeReadModels, FakeSpool]]:
    """The whole web app (every route and middleware) on fakes; no database behind it."""
    rm, spool = FakeReadModels(), FakeSpool()
    context = WebContext(
        settings=Settings(api_tokens=TOKENS),
        read_models=cast(ReadModels, rm),
        spool=cast(IngressSpool, spool),
        clock=FixedClock(),
        public_base_url="http://test",
        pool=None,  # no route reached in these tests queries PostgreSQL
    )
    async with TestClient(TestServer(make_web_app(context))) as client:
        yield client, rm, spool


def auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}
