"""The web app over in-memory read models, spool, clock and reply decisions, for tests of
the HTTP edge (the composition root's services with those parts replaced)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from aiohttp.test_utils import TestClient, TestServer

from dispatch.bootstrap import bootstrap
from dispatch.bus import EventPublisher
from dispatch.events import Envelope
from dispatch.ingress.spool import IngressSpool
from dispatch.paging.ledger import PageLedger
from dispatch.replies.desk import Decision, KnownDispatch, ReplyDesk
from dispatch.settings import Settings
from dispatch.web.app import make_web_app
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
HASHED_TOKEN = "t1-hashed-token"  # API_TOKENS holds only its SHA-256
TOKENS = (
    "t1-nurse:t-1:nurse:s-1,t1-other:t-1:nurse:s-2,t1-read:t-1:team_lead,t2:t-2:nurse:s-9,"
    f"sha256:{hashlib.sha256(HASHED_TOKEN.encode()).hexdigest()}:t-1:team_lead"
)


class FakeReadModels:
    """Read-model rows, and what the dispatch's agent decides about a reply (`decision`;
    None: not decided within the wait)."""

    def __init__(self) -> None:
        self.row = ROW
        self.decision: Decision | None = None

    async def by_code(self, code: str) -> KnownDispatch | None:
        row = await self.dispatch_by_code(code)
        return KnownDispatch(row.dispatch_id, row.short_code, row.correlation_id) if row else None

    async def decided(self, reply_event_id: uuid.UUID) -> Decision | None:
        return self.decision

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

    async def dispatch(self, dispatch_id: uuid.UUID) -> Dispatch | None:
        return self.row if dispatch_id == self.row.dispatch_id else None


class FakeLedger:
    """The page ledger as far as a dispatch's code goes: the row's dispatch was paged."""

    def __init__(self, rm: FakeReadModels) -> None:
        self._rm = rm

    async def dispatch_for_code(self, short_code: str) -> tuple[uuid.UUID, uuid.UUID | None] | None:
        row = self._rm.row
        return (row.dispatch_id, row.correlation_id) if short_code == row.short_code else None


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
async def fake_api(
    state_dir: Path = Path("var"), **services_overrides: Any
) -> AsyncIterator[tuple[Client, FakeReadModels, FakeSpool]]:
    """The whole web app (every route and middleware) on fakes; no database behind it.
    `services_overrides` replace more of the services (e.g. the webhooks' rota_cache)."""
    rm, spool, clock = FakeReadModels(), FakeSpool(), FixedClock()
    settings = Settings(
        api_tokens=TOKENS, reply_decision_wait_s=0, rota_cache_refresh_s=0, state_dir=state_dir
    )
    # No route reached in these tests queries PostgreSQL or Kafka: the pool is a stand-in
    # that nothing may use (bootstrap connects to nothing when it is given one).
    real = await bootstrap(
        settings, clock=clock, pool=cast(Any, object()), publisher=EventPublisher("127.0.0.1:9")
    )
    services = replace(
        real,
        read_models=cast(ReadModels, rm),
        ledger=cast(PageLedger, FakeLedger(rm)),
        spool=cast(IngressSpool, spool),
        replies=ReplyDesk(spool=spool, finder=rm, decisions=rm, clock=clock),
        **services_overrides,
    )
    async with TestClient(TestServer(make_web_app(services))) as client:
        yield client, rm, spool
    await real.close()


def auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}
