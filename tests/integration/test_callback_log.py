"""Status callbacks recorded together (decision 057), on a real PostgreSQL: every report
that returned is stored, the newest report of a SID wins, and one report PostgreSQL refuses
costs no other report its record."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from dispatch.paging.ledger import PageLedger

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STATUSES = ("queued", "sent", "delivered")


async def _stored(pool: asyncpg.Pool) -> dict[str, tuple[uuid.UUID, str]]:
    rows = await pool.fetch(
        "SELECT provider_sid, notification_id, provider_status FROM page_callbacks"
    )
    return {r["provider_sid"]: (r["notification_id"], r["provider_status"]) for r in rows}


async def test_reports_arriving_together_are_each_stored_and_the_newest_wins(
    pg_pool: asyncpg.Pool,
) -> None:
    ledger = PageLedger(pg_pool)
    pages = {f"SM{i:032x}": uuid.uuid4() for i in range(30)}
    reports = [
        ledger.record_callback(n, sid=sid, status=status, now=T0 + timedelta(seconds=step))
        for step, status in enumerate(STATUSES)
        for sid, n in pages.items()
    ]
    await asyncio.gather(*reports)

    assert await _stored(pg_pool) == {sid: (n, "delivered") for sid, n in pages.items()}
    sid, n = next(iter(pages.items()))
    receipt = await ledger.called_back(n)
    assert receipt is not None and (receipt.sid, receipt.status) == (sid, "delivered")


async def test_a_report_postgres_refuses_costs_no_other_report_its_record(
    pg_pool: asyncpg.Pool,
) -> None:
    ledger = PageLedger(pg_pool)
    good = {f"SM{i:032x}": uuid.uuid4() for i in range(5)}
    bad = ledger.record_callback(uuid.uuid4(), sid="SMbad", status="sent\x00", now=T0)
    results = await asyncio.gather(
        *(ledger.record_callback(n, sid=sid, status="sent", now=T0) for sid, n in good.items()),
        bad,
        return_exceptions=True,
    )

    assert results[:5] == [None] * 5
    assert isinstance(results[5], asyncpg.PostgresError)
    assert await _stored(pg_pool) == {sid: (n, "sent") for sid, n in good.items()}


async def test_a_report_whose_caller_gave_up_is_still_stored(pg_pool: asyncpg.Pool) -> None:
    ledger = PageLedger(pg_pool)
    first, second = uuid.uuid4(), uuid.uuid4()
    abandoned = asyncio.create_task(
        ledger.record_callback(first, sid="SMfirst", status="sent", now=T0)
    )
    await asyncio.sleep(0)  # one turn of the loop: its report is handed over
    abandoned.cancel()
    with pytest.raises(asyncio.CancelledError):
        await abandoned
    # A later report is written after (or with) the abandoned one: once it returns, both are.
    await ledger.record_callback(second, sid="SMsecond", status="sent", now=T0)

    assert await _stored(pg_pool) == {"SMfirst": (first, "sent"), "SMsecond": (second, "sent")}
