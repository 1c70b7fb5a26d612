"""ReadModels over projected events: who is on duty, who is calling, which dispatch a code means."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from dispatch.clients.events import CarerRegistered, ClientEnrolled
from dispatch.crisis.events import DispatchOpened, DispatchResolved
from dispatch.events import Envelope, EventPayload, new_event
from dispatch.paging.events import PageRequested
from dispatch.rota.events import Layer, ShiftAssigned, StaffRegistered, TeamFormed
from projections.models import Caller
from projections.project import project
from projections.queries import ReadModels

DAY = datetime(2026, 3, 2, tzinfo=UTC)
LINE = "+15550008888"


def ev(payload: EventPayload, key: str, at: datetime) -> Envelope:
    return new_event(payload, key=key, occurred_at=at, recorded_at=at, actor="test")


def team(team_id: str, line: str | None) -> Envelope:
    payload = TeamFormed(
        team_id=team_id,
        name=team_id.upper(),
        service_model="ICM",
        time_zone="UTC",
        fallback_number="+15550009999",
        crisis_line_number=line,
    )
    return ev(payload, team_id, DAY - timedelta(days=30))


def person(staff_id: str, phone: str, team_id: str = "t-1") -> Envelope:
    payload = StaffRegistered(
        staff_id=staff_id,
        team_id=team_id,
        display_name=staff_id,
        role="nurse",
        gender="male",
        phone=phone,
    )
    return ev(payload, team_id, DAY - timedelta(days=20))


def shift(staff_id: str, layer: Layer, start_h: float, end_h: float, assigned_h: float) -> Envelope:
    payload = ShiftAssigned(
        team_id="t-1",
        staff_id=staff_id,
        layer=layer,
        starts_at=DAY + timedelta(hours=start_h),
        ends_at=DAY + timedelta(hours=end_h),
    )
    return ev(payload, "t-1", DAY + timedelta(hours=assigned_h))


async def apply(pool: asyncpg.Pool, events: list[Envelope]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        for event in events:
            await project(conn, event)


@pytest.fixture
async def rota(pg_pool: asyncpg.Pool) -> ReadModels:
    """Day 08-20 and night 20-08 primaries, a day backup, and a later 12-14 cover for the day."""
    await apply(
        pg_pool,
        [
            team("t-1", LINE),
            team("t-2", None),
            person("day", "+15550000001"),
            person("night", "+15550000002"),
            person("backup", "+15550000003"),
            person("cover", "+15550000004"),
            person("other", "+15550000005", team_id="t-2"),
            shift("day", "primary", 8, 20, assigned_h=-48),
            shift("night", "primary", 20, 32, assigned_h=-48),
            shift("backup", "backup", 8, 20, assigned_h=-48),
            # Assigned later, overlapping the day shift: it wins while it lasts.
            shift("cover", "primary", 12, 14, assigned_h=-1),
        ],
    )
    return ReadModels(pg_pool)


@pytest.mark.parametrize(
    ("hour", "primary", "backup"),
    [
        (7.99, None, None),
        (8, "day", "backup"),  # starts_at is inside the shift
        (11.99, "day", "backup"),
        (12, "cover", "backup"),  # the most recently assigned overlapping shift wins
        (13.5, "cover", "backup"),
        (14, "day", "backup"),  # ends_at is outside the shift
        (19.99, "day", "backup"),
        (20, "night", None),
        (31.99, "night", None),
        (32, None, None),
    ],
)
async def test_on_duty_across_shift_boundaries(
    rota: ReadModels, hour: float, primary: str | None, backup: str | None
) -> None:
    """A shift covers starts_at <= at < ends_at; the newest assignment wins an overlap."""
    on_duty = await rota.on_duty("t-1", DAY + timedelta(hours=hour))
    assert (on_duty.primary.staff_id if on_duty.primary else None) == primary
    assert (on_duty.backup.staff_id if on_duty.backup else None) == backup


async def test_on_duty_is_per_team(rota: ReadModels) -> None:
    """Another team's rota is empty even while this team is covered."""
    on_duty = await rota.on_duty("t-2", DAY + timedelta(hours=10))
    assert on_duty.primary is None and on_duty.backup is None


async def test_staff_lookups(rota: ReadModels) -> None:
    """Staff are found by phone and id; a team's staff list holds only its members."""
    by_phone = await rota.staff_by_phone("+15550000002")
    assert by_phone is not None and by_phone.staff_id == "night"
    assert by_phone.languages == ("en",)
    assert await rota.staff("cover") == await rota.staff_by_phone("+15550000004")
    assert await rota.staff_by_phone("+15559999999") is None
    assert [s.staff_id for s in await rota.team_staff("t-1")] == ["backup", "cover", "day", "night"]


async def test_team_and_crisis_line(rota: ReadModels) -> None:
    """A team is found by id, and by the crisis line number it was formed with."""
    found = await rota.team("t-1")
    assert found is not None and found.fallback_number == "+15550009999"
    assert await rota.team_for_line(LINE) == "t-1"
    assert await rota.team_for_line("+15005550006") is None
    assert await rota.team("t-9") is None


async def test_caller_lookup(pg_pool: asyncpg.Pool) -> None:
    """A client's number is the client; a carer's number maps to their client; else unknown."""
    at = DAY
    await apply(
        pg_pool,
        [
            ev(
                ClientEnrolled(
                    client_id="c-1", team_id="t-1", display_name="A", phone="+15550000101"
                ),
                "c-1",
                at,
            ),
            ev(
                ClientEnrolled(client_id="c-2", team_id="t-2", display_name="B", phone=None),
                "c-2",
                at,
            ),
            ev(
                CarerRegistered(
                    client_id="c-2",
                    carer_id="k-1",
                    display_name="Parent",
                    phone="+15550000201",
                    relationship="parent",
                    client_consents_to_share=False,
                ),
                "c-2",
                at,
            ),
        ],
    )
    rm = ReadModels(pg_pool)
    assert await rm.caller_by_phone("+15550000101") == Caller("client", "c-1", "t-1")
    assert await rm.caller_by_phone("+15550000201") == Caller("carer", "c-2", "t-2", carer_id="k-1")
    assert await rm.caller_by_phone("+15550000999") == Caller("unknown", None, None)


def opened(code: str, minutes: int, team_id: str = "t-1") -> Envelope:
    dispatch_id = uuid.uuid4()
    payload = DispatchOpened(
        dispatch_id=dispatch_id,
        short_code=code,
        team_id=team_id,
        client_id=None,
        caller_kind="unknown",
        reason="crisis_text",
        risk_level="crisis",
        source_event_id=uuid.uuid4(),
        assigned_staff_id=None,
    )
    return ev(payload, str(dispatch_id), DAY + timedelta(minutes=minutes))


async def test_dispatch_queries(pg_pool: asyncpg.Pool) -> None:
    """An unresolved dispatch wins its code over a newer resolved one; open lists skip resolved."""
    old_open, new_resolved, other = opened("ABCDE", 1), opened("ABCDE", 5), opened("ZZZZZ", 3)
    resolved_id = new_resolved.payload.dispatch_id  # type: ignore[attr-defined]
    page = PageRequested(
        notification_id=uuid.uuid4(),
        dispatch_id=resolved_id,
        step=0,
        attempt=0,
        channel="sms",
        staff_id="day",
        to_number="+15550000001",
        body="CRISIS ABCDE",
    )
    await apply(
        pg_pool,
        [
            old_open,
            new_resolved,
            other,
            ev(page, str(resolved_id), DAY + timedelta(minutes=6)),
            ev(
                DispatchResolved(dispatch_id=resolved_id, staff_id="day", via="api", outcome="ok"),
                str(resolved_id),
                DAY + timedelta(minutes=9),
            ),
        ],
    )
    rm = ReadModels(pg_pool)
    by_code = await rm.dispatch_by_code("ABCDE")
    assert by_code is not None
    assert by_code.dispatch_id == old_open.payload.dispatch_id  # type: ignore[attr-defined]
    assert by_code.correlation_id == old_open.correlation_id
    assert await rm.dispatch_by_code("ABCDE", team_id="t-2") is None
    assert [d.short_code for d in await rm.open_dispatches("t-1")] == ["ABCDE", "ZZZZZ"]
    resolved = await rm.dispatch(resolved_id)
    assert resolved is not None and resolved.status == "resolved" and resolved.outcome == "ok"
    assert [p.staff_id for p in await rm.pages(resolved_id)] == ["day"]
    timeline = await rm.archive(key=str(resolved_id))
    assert [e.type for e in timeline] == ["DispatchOpened", "PageRequested", "DispatchResolved"]
    assert timeline[1].payload["body"] == "CRISIS ABCDE"
    assert [e.event_id for e in await rm.archive(correlation_id=other.correlation_id)] == [
        other.event_id
    ]


async def test_archive_puts_cause_before_effect_on_equal_times(pg_pool: asyncpg.Pool) -> None:
    """Events stamped alike come out cause first, whatever their ids would say."""
    at = DAY + timedelta(hours=1)
    cause = opened("QWERT", 60)
    dispatch_id = cause.payload.dispatch_id  # type: ignore[attr-defined]
    effect = new_event(
        PageRequested(
            notification_id=uuid.uuid4(),
            dispatch_id=dispatch_id,
            step=0,
            attempt=0,
            channel="sms",
            staff_id="day",
            to_number="+15550000001",
            body="CRISIS QWERT",
        ),
        key=str(dispatch_id),
        occurred_at=at,
        recorded_at=at,
        actor="test",
        cause=cause,
        event_id=uuid.UUID(int=0),  # sorts before the cause's random id
    )
    await apply(pg_pool, [effect, cause])
    timeline = await ReadModels(pg_pool).archive(correlation_id=cause.correlation_id)
    assert [e.type for e in timeline] == ["DispatchOpened", "PageRequested"]
