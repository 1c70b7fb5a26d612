"""project() against real PostgreSQL: replays change nothing, statuses only move forward."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from dispatch.clients.events import CarerRegistered, ClientEnrolled
from dispatch.crisis.events import (
    CrisisCallReceived,
    DispatchAcknowledged,
    DispatchOpened,
    DispatchResolved,
)
from dispatch.events import Envelope, EventPayload, new_event
from dispatch.events.registry import PAYLOADS
from dispatch.paging.events import PageDelivered, PageFailed, PageRequested, PageSent
from dispatch.risk.events import RiskLevelChanged
from dispatch.rota.events import ShiftAssigned, StaffRegistered, TeamFormed
from dispatch.vocabulary import RiskLevel
from projections.migrations import migrate, packaged
from projections.pool import connect
from projections.project import READ_MODELS, project

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DISPATCH = uuid.UUID("00000000-0000-4000-8000-00000000d001")
NOTE = uuid.UUID("00000000-0000-4000-8000-00000000a001")


def ev(payload: EventPayload, key: str, minutes: float, **kw: object) -> Envelope:
    at = T0 + timedelta(minutes=minutes)
    return new_event(payload, key=key, occurred_at=at, recorded_at=at, actor="test", **kw)  # type: ignore[arg-type]


def staff(staff_id: str, phone: str, minutes: float, name: str = "Sam") -> Envelope:
    payload = StaffRegistered(
        staff_id=staff_id,
        team_id="t-1",
        display_name=name,
        role="nurse",
        gender="female",
        phone=phone,
        languages=("en", "fr"),
    )
    return ev(payload, "t-1", minutes)


def history() -> list[Envelope]:
    """A small incident: roster, a client and carer, a call, a dispatch and its pages."""
    call = ev(
        CrisisCallReceived(
            call_sid="CA1",
            caller_number="+15550000101",
            caller_kind="client",
            client_id="c-1",
            team_id="t-1",
            dialled_staff_id="s-1",
        ),
        "c-1",
        10,
    )
    opened = ev(
        DispatchOpened(
            dispatch_id=DISPATCH,
            short_code="7KQ2M",
            team_id="t-1",
            client_id="c-1",
            caller_kind="client",
            reason="crisis_call",
            risk_level="crisis",
            source_event_id=call.event_id,
            assigned_staff_id="s-1",
        ),
        str(DISPATCH),
        10.1,
        cause=call,
    )
    return [
        ev(
            TeamFormed(
                team_id="t-1",
                name="North ACT",
                service_model="ACT",
                time_zone="America/Toronto",
                fallback_number="+15550009999",
                crisis_line_number="+15550008888",
            ),
            "t-1",
            0,
        ),
        staff("s-1", "+15550000001", 1),
        ev(
            ShiftAssigned(
                team_id="t-1",
                staff_id="s-1",
                layer="primary",
                starts_at=T0,
                ends_at=T0 + timedelta(hours=12),
            ),
            "t-1",
            2,
        ),
        ev(
            ClientEnrolled(
                client_id="c-1", team_id="t-1", display_name="Client One", phone="+15550000101"
            ),
            "c-1",
            3,
        ),
        ev(
            CarerRegistered(
                client_id="c-1",
                carer_id="k-1",
                display_name="Carer",
                phone="+15550000201",
                relationship="mother",
                client_consents_to_share=True,
            ),
            "c-1",
            4,
        ),
        call,
        opened,
        *pages(opened),
        ev(
            DispatchAcknowledged(dispatch_id=DISPATCH, staff_id="s-1", via="sms"),
            str(DISPATCH),
            12,
            cause=opened,
        ),
        ev(
            DispatchResolved(dispatch_id=DISPATCH, staff_id="s-1", via="sms", outcome="visited"),
            str(DISPATCH),
            40,
            cause=opened,
        ),
    ]


def pages(opened: Envelope) -> list[Envelope]:
    key = str(DISPATCH)
    return [
        ev(
            PageRequested(
                notification_id=NOTE,
                dispatch_id=DISPATCH,
                step=0,
                attempt=0,
                channel="sms",
                staff_id="s-1",
                to_number="+15550000001",
                body="CRISIS 7KQ2M",
            ),
            key,
            10.2,
            cause=opened,
        ),
        ev(
            PageSent(
                notification_id=NOTE,
                dispatch_id=DISPATCH,
                channel="sms",
                provider_sid="SM1",
                provider_status="queued",
            ),
            key,
            10.3,
            cause=opened,
        ),
        ev(
            PageDelivered(
                notification_id=NOTE,
                dispatch_id=DISPATCH,
                provider_sid="SM1",
                provider_status="delivered",
            ),
            key,
            10.5,
            cause=opened,
        ),
    ]


async def apply(pool: asyncpg.Pool, events: list[Envelope]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        for event in events:
            await project(conn, event)


async def counts(pool: asyncpg.Pool) -> dict[str, int]:
    row = await pool.fetchrow(
        """SELECT (SELECT count(*) FROM event_archive) AS event_archive,
                  (SELECT count(*) FROM teams) AS teams,
                  (SELECT count(*) FROM staff) AS staff,
                  (SELECT count(*) FROM shifts) AS shifts,
                  (SELECT count(*) FROM clients) AS clients,
                  (SELECT count(*) FROM carers) AS carers,
                  (SELECT count(*) FROM dispatches) AS dispatches,
                  (SELECT count(*) FROM pages) AS pages"""
    )
    return dict(row)


def test_every_event_type_is_projected_or_archived_only() -> None:
    """Each registered event type has a handler or is deliberately archive-only."""
    handled = set(READ_MODELS.handlers)
    assert handled | READ_MODELS.archive_only == set(PAYLOADS)
    assert not handled & READ_MODELS.archive_only


async def test_projecting_twice_writes_each_row_once(pg_pool: asyncpg.Pool) -> None:
    """The same events projected twice leave one row per fact and one archive row per event."""
    events = history()
    await apply(pg_pool, events)
    first = await counts(pg_pool)
    await apply(pg_pool, events)
    await apply(pg_pool, list(reversed(events)))
    assert await counts(pg_pool) == first
    assert first == {
        "event_archive": len(events),
        "teams": 1,
        "staff": 1,
        "shifts": 1,
        "clients": 1,
        "carers": 1,
        "dispatches": 1,
        "pages": 1,
    }
    row = await pg_pool.fetchrow("SELECT status, outcome, acknowledged_by FROM dispatches")
    assert dict(row) == {"status": "resolved", "outcome": "visited", "acknowledged_by": "s-1"}


async def test_late_page_sent_keeps_delivered(pg_pool: asyncpg.Pool) -> None:
    """A PageSent arriving after PageDelivered (or a replayed request) keeps the page delivered."""
    requested, sent, delivered = pages(history()[6])
    await apply(pg_pool, [requested, delivered, sent, requested])
    row = await pg_pool.fetchrow("SELECT status, provider_sid, updated_at, requested_at FROM pages")
    assert row["status"] == "delivered"
    assert row["provider_sid"] == "SM1"
    assert row["updated_at"] == delivered.occurred_at
    assert row["requested_at"] == requested.occurred_at


async def test_failed_page_records_reason_and_stays_failed_on_late_sent(
    pg_pool: asyncpg.Pool,
) -> None:
    """A failed page keeps its reason and status when its PageSent is replayed afterwards."""
    requested, sent, _ = pages(history()[6])
    failed = ev(
        PageFailed(
            notification_id=NOTE,
            dispatch_id=DISPATCH,
            channel="sms",
            reason="undelivered 30003",
            provider_fault=False,
            provider_sid="SM1",
        ),
        str(DISPATCH),
        11,
    )
    await apply(pg_pool, [requested, sent, failed, sent])
    row = await pg_pool.fetchrow("SELECT status, failure_reason FROM pages")
    assert dict(row) == {"status": "failed", "failure_reason": "undelivered 30003"}


async def test_replayed_open_keeps_acknowledged(pg_pool: asyncpg.Pool) -> None:
    """Replaying DispatchOpened after the acknowledgement leaves the dispatch acknowledged."""
    events = history()
    opened, ack = events[6], events[10]
    assert isinstance(ack.payload, DispatchAcknowledged)
    await apply(pg_pool, [opened, ack, opened])
    row = await pg_pool.fetchrow("SELECT status, acknowledged_at, acknowledged_by FROM dispatches")
    assert dict(row) == {
        "status": "acknowledged",
        "acknowledged_at": ack.occurred_at,
        "acknowledged_by": "s-1",
    }


async def test_ack_before_open_converges(pg_pool: asyncpg.Pool) -> None:
    """An ack projected before its DispatchOpened still ends acknowledged and complete."""
    events = history()
    opened, ack = events[6], events[10]
    await apply(pg_pool, [ack, opened])
    row = await pg_pool.fetchrow("SELECT status, short_code, opened_at FROM dispatches")
    assert dict(row) == {
        "status": "acknowledged",
        "short_code": "7KQ2M",
        "opened_at": opened.occurred_at,
    }


async def test_earliest_acknowledgement_wins(pg_pool: asyncpg.Pool) -> None:
    """Two acknowledgements in any order: the earlier one in event time is the one kept."""
    opened = history()[6]
    early = ev(
        DispatchAcknowledged(dispatch_id=DISPATCH, staff_id="s-1", via="sms"), str(DISPATCH), 12
    )
    late = ev(
        DispatchAcknowledged(dispatch_id=DISPATCH, staff_id="s-2", via="api"), str(DISPATCH), 13
    )
    await apply(pg_pool, [opened, late, early, late])
    assert await pg_pool.fetchval("SELECT acknowledged_by FROM dispatches") == "s-1"


async def test_older_registration_never_overwrites_newer(pg_pool: asyncpg.Pool) -> None:
    """A replayed older StaffRegistered does not undo a newer change of the same person."""
    old, new = staff("s-1", "+15550000001", 1, "Sam"), staff("s-1", "+15550000002", 5, "Samantha")
    await apply(pg_pool, [old, new, old])
    row = await pg_pool.fetchrow("SELECT display_name, phone, languages FROM staff")
    assert dict(row) == {
        "display_name": "Samantha",
        "phone": "+15550000002",
        "languages": ["en", "fr"],
    }


async def test_older_risk_change_never_overwrites_newer(pg_pool: asyncpg.Pool) -> None:
    """A replayed older risk change does not undo the client's newer level on the board."""

    def change(level: RiskLevel, minutes: float) -> Envelope:
        payload = RiskLevelChanged(
            client_id="c-1", team_id="t-1", from_level="stable", to_level=level,
            score=minutes, reasons=(level,), trigger_event_id=NOTE,
        )  # fmt: skip
        return ev(payload, "c-1", minutes)

    old, new = change("elevated", 4), change("high", 9)
    await apply(pg_pool, [new, old, new])
    row = await pg_pool.fetchrow("SELECT level, score, reasons, changed_by_event FROM client_risk")
    assert dict(row) == {
        "level": "high",
        "score": 9.0,
        "reasons": ["high"],
        "changed_by_event": new.event_id,
    }


async def test_same_instant_writers_settle_on_one_answer(pg_pool: asyncpg.Pool) -> None:
    """Two registrations stamped with the same instant give the same row in either order."""
    a, b = staff("s-1", "+15550000001", 3, "Sam"), staff("s-1", "+15550000002", 3, "Samantha")
    winner = max(a, b, key=lambda e: e.event_id)
    await apply(pg_pool, [a, b])
    first = await pg_pool.fetchval("SELECT display_name FROM staff")
    await apply(pg_pool, [b, a])
    assert await pg_pool.fetchval("SELECT display_name FROM staff") == first
    assert first == winner.payload.display_name  # type: ignore[attr-defined]


async def test_archive_is_append_only(pg_pool: asyncpg.Pool) -> None:
    """The event archive refuses updates and deletes."""
    await apply(pg_pool, history()[:1])
    with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="append-only"):
        await pg_pool.execute("UPDATE event_archive SET actor = 'someone else'")
    with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="append-only"):
        await pg_pool.execute("DELETE FROM event_archive")


async def test_archive_keeps_event_fields(pg_pool: asyncpg.Pool) -> None:
    """The archive row holds the envelope's fields and the payload as JSON."""
    events = history()
    await apply(pg_pool, events)
    opened = events[6]
    row = await pg_pool.fetchrow(
        "SELECT type, key, causation_id, correlation_id, payload->>'short_code' AS code "
        "FROM event_archive WHERE event_id = $1",
        opened.event_id,
    )
    assert dict(row) == {
        "type": "DispatchOpened",
        "key": str(DISPATCH),
        "causation_id": opened.causation_id,
        "correlation_id": opened.correlation_id,
        "code": "7KQ2M",
    }


async def test_migrations_apply_once_even_concurrently(pg_url: str) -> None:
    """Two processes migrating one database at once apply each file exactly once."""
    pools = await asyncio.gather(connect(pg_url), connect(pg_url))
    try:
        versions = await pools[0].fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in versions] == [m.version for m in packaged()]
        async with pools[1].acquire() as conn:
            assert await migrate(conn) == []
    finally:
        for pool in pools:
            await pool.close()
