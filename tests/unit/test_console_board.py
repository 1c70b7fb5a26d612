"""The live board as read by a person: what each row says, in which order, and how the
feed wakes the screens that follow a team."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from dispatch.escalation.policy import default_policy
from dispatch.escalation.state import EscalationState
from dispatch.web.console.board import sse
from dispatch.web.console.feed import BoardFeed
from dispatch.web.console.views import board_rows, escalation_line, shown_clients
from projections.console_board import BoardData
from projections.models import Dispatch, Page, Team
from tests.unit.api_fakes import ROW

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
TEAM = Team("t-1", "ACT North", "ACT", "America/New_York", "+15005550100", None)


def _state(**changes: object) -> EscalationState:
    base = EscalationState(
        dispatch_id=ROW.dispatch_id, correlation_id=ROW.correlation_id, team_id="t-1",
        short_code="K7M2Q", risk_level="crisis", reason="crisis_call", caller_kind="client",
        policy=default_policy(), deadline_at=NOW + timedelta(minutes=4, seconds=5),
    )  # fmt: skip
    return base.model_copy(update=changes)


def _page(staff_id: str, status: str, minute: int) -> Page:
    return Page(uuid.uuid4(), ROW.dispatch_id, 0, 0, "sms", staff_id,
                NOW + timedelta(minutes=minute), status, None, None, NOW)  # fmt: skip


def test_a_row_says_who_was_paged_how_and_when_and_the_next_step() -> None:
    """Code, risk, reason, caller, pages with delivery, the step and time to the next one,
    times in the team's own zone."""
    data = BoardData(TEAM, [ROW], {ROW.dispatch_id: [_page("s-1", "delivered", 0)]},
                     {ROW.dispatch_id: _state()}, {"s-1": "Community nurse"})  # fmt: skip
    (row,) = board_rows(data, NOW)
    assert (row.code, row.risk, row.reason, row.caller) == ("K7M2Q", "crisis", "Crisis call",
                                                           "client")  # fmt: skip
    assert row.opened_at == "10:00"  # 15:00 UTC in New York
    assert [(p.who, p.channel, p.at, p.state_label) for p in row.pages] == [
        ("Community nurse", "SMS", "10:00", "delivered")
    ]
    assert row.escalation is not None
    assert row.escalation.step == "step 1 of 4: primary, round 1 of 2"
    assert (row.escalation.next_step, row.escalation.remaining) == ("backup", "4:05")
    assert row.taken_by is None and row.status == "open"


def test_a_taken_dispatch_names_who_has_it_and_stops_the_countdown() -> None:
    """Acknowledged: 'taken by' with the time; no next step is counted down."""
    taken = replace(ROW, status="acknowledged", acknowledged_by="s-2",
                    acknowledged_at=NOW + timedelta(minutes=2))  # fmt: skip
    data = BoardData(TEAM, [taken], {}, {ROW.dispatch_id: _state(status="acknowledged")},
                     {"s-2": "Social worker"})  # fmt: skip
    (row,) = board_rows(data, NOW)
    assert (row.taken_by, row.taken_at) == ("Social worker", "10:02")
    assert row.escalation is not None and row.escalation.deadline_iso is None


def test_the_last_step_leads_to_everyone_and_an_overdue_step_says_now() -> None:
    """After the last step of the last round comes everyone; a passed deadline reads 'now'."""
    line = escalation_line(_state(step=3, round=1, deadline_at=NOW - timedelta(seconds=1)), NOW)
    assert line is not None
    assert line.step == "step 4 of 4: whole team + manager, round 2 of 2"
    assert (line.next_step, line.remaining, line.overdue) == ("everyone", "now", True)
    assert escalation_line(_state(policy=None), NOW) is None


def test_waiting_dispatches_come_first_highest_risk_then_oldest() -> None:
    """Nobody has it before taken; crisis before high; older before newer."""

    def d(code: str, risk: str, status: str, minute: int) -> Dispatch:
        return replace(ROW, dispatch_id=uuid.uuid4(), short_code=code, risk_level=risk,
                       status=status, opened_at=NOW + timedelta(minutes=minute),
                       client_id=f"c-{code}")  # fmt: skip

    ds = [d("TAKEN", "crisis", "acknowledged", 0), d("HIGH1", "high", "open", 0),
          d("CRIS2", "crisis", "open", 5), d("CRIS1", "crisis", "open", 1)]  # fmt: skip
    rows = board_rows(BoardData(TEAM, ds, {}, {}, {}), NOW)
    assert [r.code for r in rows] == ["CRIS1", "CRIS2", "HIGH1", "TAKEN"]
    assert shown_clients(rows) == {"c-CRIS1", "c-CRIS2", "c-HIGH1", "c-TAKEN"}


def test_a_server_sent_event_carries_every_line_of_the_rows() -> None:
    """Each line of the HTML is its own data: line, under the board event and its version."""
    assert sse("board", "v1", "<p>\n</p>") == b"event: board\nid: v1\ndata: <p>\ndata: </p>\n\n"
    assert sse("board", "v2", "") == b"event: board\nid: v2\ndata: \n\n"


async def test_the_feed_wakes_followers_on_a_change_and_polls_once_per_team() -> None:
    """Two screens on one team share one poller; a changed fingerprint reaches both; the
    poller stops with the last follower; closing wakes everyone."""
    versions = {"t-1": "a"}
    polls: list[str] = []

    async def fingerprint(team_id: str) -> str:
        polls.append(team_id)
        return versions[team_id]

    feed = BoardFeed(fingerprint, poll_s=0.01)
    async with feed.follow("t-1") as one, feed.follow("t-1") as two:
        assert one is two
        assert await feed.next_version(one, "a", 0.05) == "a"  # nothing changed: timeout
        versions["t-1"] = "b"
        seen = await asyncio.gather(feed.next_version(one, "a", 5), feed.next_version(two, "a", 5))
        assert seen == ["b", "b"]
        feed.close()
        assert await feed.next_version(one, "b", 5) == "b"
    count = len(polls)
    await asyncio.sleep(0.05)
    assert len(polls) == count  # nobody follows: no more polling
