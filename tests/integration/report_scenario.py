"""A team's fortnight for the report's tests: one ACT team of five, four clients, a dozen
crisis incidents (some escalated, one never acknowledged or slow), risk going up and down,
visits, carers and daily meetings; generated (replay_history) and projected as live."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from tests.integration.live_projection import project_live
from tests.integration.replay_history import T0, Shape, delivered, history

TEAM = "gen-t0"
SHAPE = Shape(seed=20260302, teams=1, staff_per_team=5, clients_per_team=4, incidents=14,
              episodes=70, days=14, duplicates=0.0, partitions=1)  # fmt: skip
START, END = T0, T0 + timedelta(days=14)


async def project_scenario(pool: asyncpg.Pool) -> None:
    events = history(SHAPE)
    await project_live(pool, delivered(events, SHAPE))


def window() -> tuple[str, str]:
    return iso(START), iso(END)


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")
