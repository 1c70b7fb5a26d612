"""The web app with the review desk over an in-memory archive of hand-made events (the same
questions projections.review_queries answers in SQL), for tests of the review API."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any, cast

from aiohttp.test_utils import TestClient, TestServer

from dispatch.bootstrap import bootstrap
from dispatch.bus import EventPublisher
from dispatch.events.registry import BY_TYPE
from dispatch.ingress.spool import IngressSpool
from dispatch.review.facts import Archived, event_time_order
from dispatch.review.roster import MEMBERSHIP_TYPES, joined_team
from dispatch.review.service import ReviewDesk
from dispatch.settings import Settings
from dispatch.web.app import make_web_app
from tests.unit.api_fakes import FakeSpool, FixedClock

CASELOAD_TYPES = ("ClientEnrolled", "TransferCompleted", "ClientReReferred")
TOKENS = "rv-mgr:act-rv:manager:s-rv-mgr,rv-lead:act-rv:team_lead,rv-nurse:act-rv:nurse:s-1,other-mgr:act-other:manager"  # noqa: E501


class MemoryArchive:
    def __init__(self, facts: Sequence[Archived]) -> None:
        self.facts = event_time_order(facts)

    def _where(self, keep: Any) -> list[Archived]:
        return [f for f in self.facts if keep(f)]

    async def dispatch_opened(self, short_code: str) -> Archived | None:
        found = self._where(lambda f: f.type == "DispatchOpened"
                            and f.payload["short_code"] == short_code)  # fmt: skip
        return found[-1] if found else None

    async def openings(self, team_id: str, start: datetime, end: datetime) -> list[Archived]:
        return self._where(lambda f: f.type == "DispatchOpened" and f.payload["team_id"] == team_id
                           and start <= f.occurred_at < end)  # fmt: skip

    async def correlated(
        self, correlation_ids: Sequence[uuid.UUID], keys: Sequence[str]
    ) -> list[Archived]:
        return self._where(lambda f: f.correlation_id in correlation_ids or f.key in keys)

    async def about_clients(self, client_ids: Sequence[str], start: datetime | None,
                            end: datetime | None, types: Sequence[str] | None = None,
                            ) -> list[Archived]:  # fmt: skip
        def mine(f: Archived) -> bool:
            named = {f.key, str(f.payload.get("client_id")), *f.payload.get("client_ids", ())}
            return bool(named & set(client_ids))

        opened = {f.correlation_id for f in self._where(mine) if f.type == "DispatchOpened"}
        life = ("DispatchAcknowledged", "DispatchResolved", "DispatchEscalated")
        return self._where(
            lambda f: (
                (mine(f) or (f.type in life and f.correlation_id in opened))
                and (start is None or f.occurred_at >= start)
                and (end is None or f.occurred_at < end)
                and (types is None or f.type in types)
            )
        )

    async def team_stream(self, team_id: str) -> list[Archived]:
        return self._where(lambda f: f.key == team_id and f.type != "ClientRecordsViewed")

    async def membership(self, team_id: str) -> list[Archived]:
        def person(f: Archived) -> Any:
            return f.payload.get("client_id") or f.payload.get("staff_id")

        joins = self._where(lambda f: f.type in MEMBERSHIP_TYPES)
        ours = {person(f) for f in joins if joined_team(f) == team_id}
        return [f for f in joins if person(f) in ours]

    async def known_by(self, at: datetime, team_id: str | None) -> list[Archived]:
        return self._where(lambda f: f.occurred_at <= at or f.recorded_at <= at)

    async def client_team(self, client_id: str) -> str | None:
        placed = self._where(lambda f: f.type in CASELOAD_TYPES
                             and f.payload["client_id"] == client_id)  # fmt: skip
        last = placed[-1].payload if placed else None
        return None if last is None else str(last.get("to_team_id") or last["team_id"])


Client = TestClient[Any, Any]


@asynccontextmanager
async def review_api(facts: Sequence[Archived]) -> AsyncIterator[tuple[Client, FakeSpool]]:
    """The whole web app; the review desk reads `facts`, its audit goes to the fake spool."""
    spool, clock = FakeSpool(), FixedClock()
    real = await bootstrap(Settings(api_tokens=TOKENS), clock=clock, pool=cast(Any, object()),
                           publisher=EventPublisher("127.0.0.1:9"))  # fmt: skip
    desk = ReviewDesk(MemoryArchive(facts), spool, clock, frozenset(BY_TYPE))
    services = replace(real, spool=cast(IngressSpool, spool), review=desk)
    async with TestClient(TestServer(make_web_app(services))) as client:
        yield client, spool
    await real.close()
