"""Client preferences on the real stack: the worker dialled is the worker paged."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator

import pytest

from dispatch.clients.events import CarerRegistered
from dispatch.events import Envelope
from dispatch.stack.runtime import Stack
from integrations.twilio.sandbox import SandboxPhones
from tests.e2e.helpers import code_of, last_index, next_page, until
from tests.e2e.team_seed import TeamSeed

TEAM = "act-pref"
LINE = "+15005550031"
MALE_PRIMARY, FEMALE_BACKUP = "s-pref-m", "s-pref-f"
PHONES = {MALE_PRIMARY: "+15550710001", FEMALE_BACKUP: "+15550710002"}
WANTS_F, WANTS_NB, NO_PREF = "c-pref-f", "c-pref-nb", "c-pref-none"
CLIENTS = {WANTS_F: "+15550720001", WANTS_NB: "+15550720002", NO_PREF: "+15550720003"}
CARER_OF_F = "+15550730001"


def _team_events(stack: Stack) -> list[Envelope]:
    seed = TeamSeed(stack.clock.now(), TEAM)
    seed.team(name="ACT Pref", fallback_number="+15005550198", crisis_line_number=LINE)
    for staff_id, gender, layer in (
        (MALE_PRIMARY, "male", "primary"),
        (FEMALE_BACKUP, "female", "backup"),
    ):
        seed.staff(
            staff_id,
            phone=PHONES[staff_id],
            role="nurse",
            gender=gender,  # type: ignore[arg-type]
            display_name=staff_id,
        )
        seed.shift(staff_id, layer)  # type: ignore[arg-type]
    for client_id, gender in ((WANTS_F, "female"), (WANTS_NB, "nonbinary"), (NO_PREF, None)):
        seed.client(client_id, phone=CLIENTS[client_id], preferred_gender=gender or "unspecified")
    seed.emit(
        CarerRegistered(
            client_id=WANTS_F,
            carer_id="k-pref",
            display_name="carer",
            phone=CARER_OF_F,
            relationship="sister",
            client_consents_to_share=True,
        ),
        WANTS_F,
    )
    return seed.events


@pytest.fixture(scope="module")
async def pref_team(stack: Stack) -> AsyncIterator[str]:
    """A team of its own: a male primary and a female backup on duty, its own crisis line.
    Afterwards its dispatches are closed and its pages settled, so nothing lands later."""
    await stack.publisher.publish(_team_events(stack))
    await stack.projector.wait_until_caught_up(timeout=30)
    yield TEAM
    await settle_team(stack, TEAM, PHONES[MALE_PRIMARY])


async def settle_team(stack: Stack, team_id: str, staff_phone: str) -> None:
    """Close every open dispatch of the team (DONE by SMS) and wait until each of its pages
    has its final delivery report. A dispatch opened meanwhile (the risk engine reacts to
    the calls) is closed on a later poll, not left escalating."""
    phones = SandboxPhones(stack.settings.twilio_api_base_url)
    closed: set[str] = set()

    async def settled() -> bool:
        for d in await stack.read_models.open_dispatches(team_id):
            if d.short_code not in closed:
                reply = f"DONE {d.short_code} test over"
                status, _ = await phones.send_sms(
                    staff_phone, stack.settings.twilio_from_number, reply
                )
                assert status == 200
                closed.add(d.short_code)
        pending: int = await stack.pool.fetchval(
            """SELECT (SELECT count(*) FROM dispatches
                       WHERE team_id = $1 AND status <> 'resolved')
                    + (SELECT count(*) FROM pages p JOIN dispatches d USING (dispatch_id)
                       WHERE d.team_id = $1
                         AND p.status NOT IN ('delivered', 'failed', 'cancelled'))""",
            team_id,
        )
        return pending == 0

    try:
        await until(settled, what=f"{team_id} dispatches closed and pages settled")
    finally:
        await phones.close()


async def _page(stack: Stack, phones: SandboxPhones, phone: str, *, after: int) -> str:
    """The body of the next crisis page to `phone` after message index `after` (outreach
    texts the risk agent may send about the same client are skipped)."""
    while True:
        sms = await next_page(phones, phone, after=after, timeout=20)
        body: str = sms["body"]
        if body.startswith("ACT CRISIS"):
            return body
        after = sms["index"]


async def _assigned(stack: Stack, code: str) -> str | None:
    row = await until(lambda: stack.read_models.dispatch_by_code(code), what="dispatch row")
    return row.assigned_staff_id  # type: ignore[no-any-return]


async def test_female_preference_dials_and_pages_the_female_backup(
    stack: Stack, phones: SandboxPhones, pref_team: str
) -> None:
    """A client preferring a female worker, male primary on duty: the female backup is
    dialled by the TwiML and paged, with no unmet-preference note."""
    after = last_index(stack)
    status, twiml = await phones.place_call(CLIENTS[WANTS_F], LINE)
    assert status == 200
    assert PHONES[FEMALE_BACKUP] in twiml and PHONES[MALE_PRIMARY] not in twiml
    body = await _page(stack, phones, PHONES[FEMALE_BACKUP], after=after)
    assert "pref" not in body
    assert await _assigned(stack, code_of(body)) == FEMALE_BACKUP


async def test_carer_call_uses_the_clients_preference(
    stack: Stack, phones: SandboxPhones, pref_team: str
) -> None:
    """A carer calling about a client who prefers a female worker reaches the female backup."""
    after = last_index(stack)
    status, twiml = await phones.place_call(CARER_OF_F, LINE)
    assert status == 200 and PHONES[FEMALE_BACKUP] in twiml
    body = await _page(stack, phones, PHONES[FEMALE_BACKUP], after=after)
    assert "(carer)" in body and await _assigned(stack, code_of(body)) == FEMALE_BACKUP


async def test_crisis_text_pages_the_preferred_worker(
    stack: Stack, phones: SandboxPhones, pref_team: str
) -> None:
    """A crisis text from that client pages the female backup too (the worker's choice)."""
    after = last_index(stack)
    status, _ = await phones.send_sms(CLIENTS[WANTS_F], LINE, "please call me")
    assert status == 200
    body = await _page(stack, phones, PHONES[FEMALE_BACKUP], after=after)
    assert "crisis text" in body and "pref" not in body


async def test_unmet_preference_pages_primary_and_says_so(
    stack: Stack, phones: SandboxPhones, pref_team: str
) -> None:
    """Nobody on duty matches: the primary is dialled and paged, the page says it is unmet."""
    after = last_index(stack)
    status, twiml = await phones.place_call(CLIENTS[WANTS_NB], LINE)
    assert status == 200 and PHONES[MALE_PRIMARY] in twiml
    body = await _page(stack, phones, PHONES[MALE_PRIMARY], after=after)
    assert "pref NB worker unmet" in body and len(body) <= 160
    assert WANTS_NB not in body and CLIENTS[WANTS_NB] not in body
    assert await _assigned(stack, code_of(body)) == MALE_PRIMARY


async def test_no_answer_from_preferred_backup_rolls_to_primary(
    stack: Stack, phones: SandboxPhones, pref_team: str
) -> None:
    """If the preferred backup does not answer, the next dial is the primary, not her again."""
    status, twiml = await phones.place_call(CLIENTS[WANTS_F], LINE, call_sid="CApref-rollover")
    assert status == 200
    match = re.search(r'action="([^"]+)"', twiml)
    assert match is not None
    status, next_twiml = await phones.press_digits(
        html.unescape(match[1]), call_sid="CApref-rollover", from_=CLIENTS[WANTS_F], to=LINE,
        digits="0",
    )  # fmt: skip
    assert status == 200
    assert PHONES[MALE_PRIMARY] in next_twiml and PHONES[FEMALE_BACKUP] not in next_twiml


async def test_no_preference_dials_the_primary(
    stack: Stack, phones: SandboxPhones, pref_team: str
) -> None:
    """A client without preferences reaches the primary, as before."""
    after = last_index(stack)
    status, twiml = await phones.place_call(CLIENTS[NO_PREF], LINE)
    assert status == 200 and PHONES[MALE_PRIMARY] in twiml
    body = await _page(stack, phones, PHONES[MALE_PRIMARY], after=after)
    assert "pref" not in body
