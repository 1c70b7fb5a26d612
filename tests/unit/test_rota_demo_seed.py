"""The demo team's rota is a rotation that matches its documented daily order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dispatch.demo.seed import TEAM_ID, on_call_for_day, rota_day_start, seed_events
from dispatch.rota.oncall import on_call
from dispatch.rota.state import fold


def test_demo_rotation_matches_the_daily_order_across_dst() -> None:
    """Day n after yesterday's local midnight: on_call_for_day(n), through a DST change."""
    now = datetime(2026, 3, 5, 15, tzinfo=UTC)  # the 8 March change is within 8 days
    rota = fold(seed_events(now, "+15550001234")).team(TEAM_ID)
    first = rota_day_start(now) - timedelta(days=1)
    for day in range(10):
        local_noon = (first.replace(tzinfo=None) + timedelta(days=day, hours=12)).replace(
            tzinfo=first.tzinfo
        )
        primary, backup = on_call_for_day(day)
        assert on_call(rota, "primary", local_noon).staff_id == primary.staff_id
        assert on_call(rota, "backup", local_noon).staff_id == backup.staff_id
