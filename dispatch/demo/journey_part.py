"""The demo's follow-up part: the crisis call resolved a moment ago owes the client a
post-crisis follow-up, which the huddle board shows until the on-duty worker's visit
(recorded through the contact service, like `dispatch contact`) closes it and ends the
crisis hold."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from dispatch.clients.inputs import ContactInput
from dispatch.demo.seed import TEAM_ID
from dispatch.risk.ports import HuddleRow

if TYPE_CHECKING:
    from dispatch.demo.scenario import DemoReport
    from dispatch.stack.runtime import Stack


async def board_row(
    stack: Stack, client_id: str, until: Callable[[HuddleRow], bool], timeout_s: float = 20.0
) -> HuddleRow:
    """The client's huddle-board row once `until` holds for it (bounded wait)."""
    deadline = time.monotonic() + timeout_s
    while True:
        rows = await stack.services.risk_queries.huddle(TEAM_ID, stack.clock.now())
        row = next((r for r in rows if r.client_id == client_id), None)
        if row is not None and until(row):
            return row
        if time.monotonic() > deadline:
            raise TimeoutError(f"{client_id}'s board row not as expected after {timeout_s}s")
        await asyncio.sleep(0.05)


async def run_journey_part(
    stack: Stack, report: DemoReport, *, client_id: str, visitor: str, visitor_name: str
) -> None:
    row = await board_row(stack, client_id, lambda r: r.follow_up_due is not None)
    assert row.follow_up_due is not None
    report.say(
        f"[follow] {client_id}'s crisis call is resolved: a follow-up contact is due by "
        f"{row.follow_up_due:%Y-%m-%d %H:%M}Z (risk {row.level}, score {row.score:.1f} now)"
    )
    visit = ContactInput(kind="face_to_face", where="home", minutes=40, staff_ids=(visitor,))
    await stack.services.journey.contact(client_id, visit, actor=visitor)
    row = await board_row(
        stack, client_id, lambda r: r.follow_up_due is None and r.level != "crisis"
    )
    report.say(
        f"[visit] {visitor_name} visited {client_id} at home: follow-up closed, crisis hold ended "
        f"(risk {row.level})"
    )
