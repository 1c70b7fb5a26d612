"""Out of hours: an ICM team's line is answered by its named fallback, never by nobody."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatch.clients.events import ClientEnrolled
from dispatch.events import Envelope, EventPayload, new_event
from dispatch.rota.events import CoverageSet, StaffRegistered, TeamFormed
from dispatch.stack.runtime import Stack
from integrations.twilio.sandbox import SandboxPhones
from tests.e2e.helpers import code_of, last_index, next_page, on_duty_primary, reply_by_sms, until

EAST_LINE, WEST_LINE = "+15005550041", "+15005550042"
EAST_CLIENT, WEST_CLIENT = "+15550700001", "+15550700002"
EXTERNAL_CRISIS_LINE = "+15005550123"


def closed_now_events(now: datetime) -> list[Envelope]:
    """Two ICM teams whose covered hours exclude `now`: one falls back to ACT North, one to
    an external crisis line."""
    opens, closes = (now + timedelta(hours=2)).time(), (now + timedelta(hours=3)).time()
    out: list[Envelope] = []

    def emit(payload: EventPayload, key: str) -> None:
        out.append(new_event(payload, key=key, occurred_at=now, recorded_at=now, actor="test"))

    for n, (team, line, client, phone, fallback) in enumerate(
        (
            ("ooh-east", EAST_LINE, "c-e1", EAST_CLIENT, {"fallback_team_id": "act-north"}),
            ("ooh-west", WEST_LINE, "c-w1", WEST_CLIENT, {"fallback_number": EXTERNAL_CRISIS_LINE}),
        )
    ):
        emit(
            TeamFormed(
                team_id=team,
                name=team,
                service_model="ICM",
                time_zone="UTC",
                fallback_number="+15005550199",
                crisis_line_number=line,
            ),
            team,
        )
        emit(
            StaffRegistered(
                staff_id=f"{team}-worker",
                team_id=team,
                display_name="worker",
                role="social_worker",
                gender="unspecified",
                phone=f"+1555099000{n}",
            ),
            team,
        )
        emit(CoverageSet(team_id=team, all_day=False, opens=opens, closes=closes, **fallback), team)
        emit(
            ClientEnrolled(client_id=client, team_id=team, display_name=client, phone=phone), client
        )
    return out


@pytest.fixture(scope="module")
async def closed_teams(stack: Stack) -> None:
    """The two ICM teams, projected before the tests call their lines."""
    await stack.publisher.publish(closed_now_events(datetime.now(UTC)))
    await stack.projector.wait_until_caught_up(timeout=30)


async def test_call_outside_hours_goes_to_fallback_team(
    stack: Stack, phones: SandboxPhones, closed_teams: None
) -> None:
    """Out of hours, an ICM client's call dials and pages the fallback team's on-duty worker."""
    north_primary = await on_duty_primary(stack)
    after = last_index(stack)
    status, twiml = await phones.place_call(EAST_CLIENT, EAST_LINE)
    assert status == 200 and f"<Number>{north_primary.phone}</Number>" in twiml
    sms = await next_page(phones, north_primary.phone, after=after, timeout=20)
    code = code_of(sms["body"])
    row = await until(lambda: stack.read_models.dispatch_by_code(code), what="dispatch row")
    assert row.team_id == "act-north" and row.client_id == "c-e1"
    reply = await reply_by_sms(stack, phones, north_primary.phone, f"DONE {code} called back, safe")
    assert reply == f"{code} closed: called back, safe"


async def test_call_outside_hours_dials_external_crisis_line(
    stack: Stack, phones: SandboxPhones, closed_teams: None
) -> None:
    """Out of hours with an external fallback, the caller is put through to that number."""
    status, twiml = await phones.place_call(WEST_CLIENT, WEST_LINE)
    assert status == 200
    assert f"<Number>{EXTERNAL_CRISIS_LINE}</Number>" in twiml
    assert "out-of-hours" in twiml
