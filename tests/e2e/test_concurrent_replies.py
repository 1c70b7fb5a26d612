"""Staff replying at the same moment, on the real stack: the dispatch's own agent decides,
so exactly one ACK wins and everyone else is told who has it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from dispatch.stack.runtime import Stack
from integrations.twilio.sandbox import SandboxPhones
from tests.e2e import south_team as south
from tests.e2e.helpers import archive_types, code_of, last_index, next_page, reply_by_sms, until
from tests.e2e.team_seed import TeamSeed
from tests.e2e.test_preferences import settle_team

TEAM = "act-race"
LINE = "+15005550051"
STAFF = {f"s-race-{i}": f"+155508200{i:02d}" for i in range(1, 6)}
NAMES = {staff_id: f"Worker {staff_id[-1]}" for staff_id in STAFF}
PRIMARY = "s-race-1"
CLIENTS = {f"c-race{i}": f"+155508210{i:02d}" for i in range(1, 4)}


@pytest.fixture(scope="module")
async def race_team(stack: Stack) -> AsyncIterator[None]:
    """An ACT team of five: s-race-1 on primary, s-race-2 on backup; afterwards its
    dispatches are closed and its pages settled."""
    seed = TeamSeed(stack.clock.now(), TEAM)
    seed.team(name="ACT Race", fallback_number="+15005550198", crisis_line_number=LINE)
    for staff_id, phone in STAFF.items():
        seed.staff(staff_id, phone=phone, role="nurse", gender="unspecified",
                   display_name=NAMES[staff_id])  # fmt: skip
    seed.shift(PRIMARY, "primary")
    seed.shift("s-race-2", "backup")
    for client_id, phone in CLIENTS.items():
        seed.client(client_id, phone=phone)
    await stack.publisher.publish(seed.events)
    await stack.projector.wait_until_caught_up(timeout=30)
    yield
    await settle_team(stack, TEAM, STAFF[PRIMARY])


async def _paged_code(stack: Stack, phones: SandboxPhones, client: str) -> str:
    """A client calls the team's line; the code of the page the primary gets."""
    after = last_index(stack)
    status, _ = await phones.place_call(CLIENTS[client], LINE)
    assert status == 200
    page = await next_page(phones, STAFF[PRIMARY], after=after, timeout=20)
    assert page["body"].startswith("ACT CRISIS")
    return code_of(page["body"])


@pytest.mark.usefixtures("race_team")
@pytest.mark.parametrize(("client", "repliers"), [("c-race1", 2), ("c-race2", 5)])
async def test_simultaneous_acks_one_wins_the_rest_are_told_who_has_it(
    stack: Stack, phones: SandboxPhones, client: str, repliers: int
) -> None:
    """N staff text ACK at once, the moment the page lands: one DispatchAcknowledged, one
    "is yours", and every other replier is told the winner's name."""
    code = await _paged_code(stack, phones, client)
    staff = list(STAFF)[:repliers]
    texts = await asyncio.gather(
        *(reply_by_sms(stack, phones, STAFF[s], f"ACK {code}") for s in staff)
    )
    winners = [s for s, text in zip(staff, texts, strict=True) if "is yours" in text]
    assert len(winners) == 1, texts
    winner_name = NAMES[winners[0]]
    losers = [text for text in texts if "is yours" not in text]
    assert losers == [f"{code} is already taken by {winner_name}; nothing changed."] * (
        repliers - 1
    )
    row = await until(lambda: _acknowledged(stack, code), what="acknowledged")
    assert row.acknowledged_by == winners[0]
    types = await archive_types(stack, row.correlation_id)
    assert types.count("DispatchAcknowledged") == 1
    assert types.count("StaffReplyReceived") == types.count("StaffReplyDecided") == repliers


@pytest.mark.usefixtures("race_team")
async def test_a_reply_from_another_team_changes_nothing(
    stack: Stack, phones: SandboxPhones
) -> None:
    """A worker of another team texting ACK with this team's code is refused; the dispatch
    stays open for its own team."""
    code = await _paged_code(stack, phones, "c-race3")
    text = await reply_by_sms(stack, phones, south.PHONES[south.PRIMARY], f"ACK {code}")
    assert text == f"{code} belongs to another team; nothing was changed."
    mine = await reply_by_sms(stack, phones, STAFF[PRIMARY], f"ACK {code}")
    assert mine.startswith(f"{code} is yours")


async def _acknowledged(stack: Stack, code: str):  # type: ignore[no-untyped-def]
    row = await stack.read_models.dispatch_by_code(code)
    return row if row is not None and row.status == "acknowledged" else None
