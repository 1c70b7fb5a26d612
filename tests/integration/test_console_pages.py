"""The rota, huddle and sign-in-by-code pages on PostgreSQL (the demo team projected, no
broker: events stay in the ingress spool), codes through the real Twilio adapter to the
sandbox."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from aiohttp.test_utils import TestClient

from dispatch.demo.seed import TIME_ZONE
from dispatch.events import new_event
from dispatch.rota.events import StaffLeft
from integrations.twilio.client import TwilioTelephony
from integrations.twilio.sandbox import TwilioSandbox
from projections.project import project
from tests.integration.console_support import (
    add_account,
    console_app,
    csrf_of,
    sign_in,
    spooled,
)

NURSE_PHONE = "+15550100001"  # s-nurse on the demo roster


async def _post_form(client: TestClient[Any, Any], path: str, page: str, **data: Any) -> Any:
    return await client.post(path, data={"csrf": csrf_of(page), **data}, allow_redirects=False)


async def test_the_rota_page_shows_who_is_on_call_and_a_lead_adds_an_override_as_the_api_would(
    pg_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    """Primary and backup now and seven days; a lead's override with a bad field is refused
    next to that field (nothing spooled); a good one is spooled as OverrideScheduled by
    the console account; a staff member sees no form and a POST is 403."""
    async with console_app(pg_pool, tmp_path) as (client, services, clock):
        await add_account(services, "s-lead", role="team_lead")
        await add_account(services, "s-peer")
        assert (await sign_in(client, "s-lead")).status == 303
        page = await (await client.get("/console/rota")).text()
        duty = await services.read_models.on_duty("act-north", clock.now())
        assert duty.primary is not None and duty.backup is not None
        now_card = page.split('id="oncall-now"')[1].split("</section>")[0]
        assert duty.primary.display_name in now_card and duty.backup.display_name in now_card
        assert page.count("<tr") == 8 and 'id="override-form"' in page

        bad = await _post_form(client, "/console/rota/overrides", page, layer="primary",
                               staff_id="s-nobody", starts_at="2026-11-25T09:00",
                               ends_at="2026-11-25T17:00")  # fmt: skip
        text = await bad.text()
        assert bad.status == 422
        assert re.search(r'id="problem-staff_id" role="alert">is not a member of team', text)
        backwards = await _post_form(client, "/console/rota/overrides", page, layer="backup",
                                     staff_id="s-peer", starts_at="2026-11-25T17:00",
                                     ends_at="2026-11-25T09:00")  # fmt: skip
        assert backwards.status == 400
        assert 'id="problem-ends_at" role="alert">must be after starts_at' in await backwards.text()
        missing = await _post_form(
            client,
            "/console/rota/overrides",
            page,
            layer="backup",
            staff_id="s-peer",
            starts_at="",
            ends_at="2026-11-25T09:00",
        )
        assert missing.status == 400 and 'id="problem-starts_at"' in await missing.text()
        assert await spooled(pg_pool, "OverrideScheduled") == []

        done = await _post_form(client, "/console/rota/overrides", page, layer="backup",
                                staff_id="s-peer", starts_at="2026-11-26T09:00",
                                ends_at="2026-11-26T17:00")  # fmt: skip
        assert done.status == 303 and done.headers["Location"] == "/console/rota"
        (event,) = await spooled(pg_pool, "OverrideScheduled")
        assert event.actor == "console:team_lead:s-lead"
        p = event.payload.model_dump(mode="json")
        assert (p["staff_id"], p["layer"]) == ("s-peer", "backup")
        local = datetime(2026, 11, 26, 9, tzinfo=ZoneInfo(TIME_ZONE))  # the team's local time
        assert datetime.fromisoformat(p["starts_at"]) == local
        assert "Override recorded" in await (await client.get("/console/rota")).text()

        client.session.cookie_jar.clear()
        assert (await sign_in(client, "s-peer")).status == 303
        staff_page = await (await client.get("/console/rota")).text()
        assert 'id="override-form"' not in staff_page and 'id="rota-calendar"' in staff_page
        refused = await _post_form(
            client,
            "/console/rota/overrides",
            staff_page,
            layer="backup",
            staff_id="s-peer",
            starts_at="2026-11-27T09:00",
            ends_at="2026-11-27T17:00",
        )
        assert refused.status == 403
        assert len(await spooled(pg_pool, "OverrideScheduled")) == 1


async def test_the_huddle_page_is_recorded_like_the_api_and_records_the_meeting(
    pg_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    """Viewing the board is one ClientRecordsViewed (view huddle_board, the clients shown);
    the button records TeamMeetingHeld once for the day, with who attended."""
    async with console_app(pg_pool, tmp_path) as (client, services, _):
        await add_account(services, "s-social")
        assert (await sign_in(client, "s-social")).status == 303
        page = await (await client.get("/console/huddle")).text()
        assert "huddle board" in page and "Not recorded yet today" in page
        (read,) = await spooled(pg_pool, "ClientRecordsViewed")
        assert read.payload.model_dump()["view"] == "huddle_board"
        assert read.payload.model_dump()["viewer"] == "console:staff:s-social"
        held = await _post_form(client, "/console/huddle/meeting", page,
                                attendees="s-nurse", reviewed="3")  # fmt: skip
        assert held.status == 303
        (meeting,) = await spooled(pg_pool, "TeamMeetingHeld")
        body = meeting.payload.model_dump()
        assert body["attendees"] == ("s-nurse",) and body["clients_reviewed"] == 3
        again = await _post_form(client, "/console/huddle/meeting", page)
        assert again.status == 303 and len(await spooled(pg_pool, "TeamMeetingHeld")) == 1
        told = await (await client.get("/console/huddle")).text()
        assert "was already recorded" in told
        wrong = await _post_form(client, "/console/huddle/meeting", told, attendees="s-who")
        assert wrong.status == 303
        assert "Not recorded: attendees.0" in await (await client.get("/console/huddle")).text()


async def _ask_code(client: TestClient[Any, Any], name: str) -> Any:
    form = await (await client.get("/console/login/code")).text()
    return await _post_form(client, "/console/login/code", form, account=name)


async def _check_code(client: TestClient[Any, Any], name: str, code: str) -> Any:
    form = await (await client.get("/console/login/code")).text()
    return await _post_form(client, "/console/login/code/check", form, account=name, code=code)


async def test_a_code_by_sms_signs_in_once_and_gives_nothing_away(
    pg_pool: asyncpg.Pool,
    tmp_path: Path,
    twilio_sandbox: TwilioSandbox,
    telephony: TwilioTelephony,
) -> None:
    """The code reaches the roster phone through the sandbox, is stored only as a hash,
    signs in once; an unknown name and a leaver get the same answer and no SMS; a wrong
    code or an expired one is refused; asking too often is refused like passwords."""
    async with console_app(pg_pool, tmp_path, telephony) as (client, services, clock):
        await add_account(services, "s-nurse")
        await add_account(services, "s-psych")
        asked = await _ask_code(client, "s-nurse")
        answer = await asked.text()
        assert asked.status == 200 and "a sign-in code is on its way" in answer
        sms = await twilio_sandbox.wait_for_message(to=NURSE_PHONE, timeout=10)
        code = re.search(r"\b(\d{6})\b", sms.body)
        assert code is not None
        stored = await pg_pool.fetchval("SELECT code_hash FROM console_sign_in_codes")
        assert stored.startswith("$argon2id$") and code.group(1) not in stored

        assert (await _check_code(client, "s-nurse", "000000" if code.group(1) != "000000"
                                  else "111111")).status == 401  # fmt: skip
        done = await _check_code(client, "s-nurse", code.group(1))
        assert done.status == 303 and "console_session" in done.cookies
        assert (await client.get("/console/")).status == 200
        client.session.cookie_jar.clear()
        used = await _check_code(client, "s-nurse", code.group(1))
        assert used.status == 401 and "wrong, used or expired" in await used.text()

        sent_before = len(twilio_sandbox.messages)
        unknown = await _ask_code(client, "s-nobody")
        assert unknown.status == 200
        assert _same_page(await unknown.text(), "s-nobody") == _same_page(answer, "s-nurse")
        left = StaffLeft(staff_id="s-psych", team_id="act-north", left_at=clock.now())
        async with pg_pool.acquire() as conn, conn.transaction():
            await project(conn, new_event(left, key="act-north", occurred_at=clock.now(),
                                          recorded_at=clock.now(), actor="test"))  # fmt: skip
        leaver = await _ask_code(client, "s-psych")
        assert leaver.status == 200 and "on its way" in await leaver.text()
        await client.app[_sender_key()].drain()
        assert len(twilio_sandbox.messages) == sent_before  # neither got an SMS

        after = twilio_sandbox.messages[-1].index
        await _ask_code(client, "s-nurse")
        late = await twilio_sandbox.wait_for_message(to=NURSE_PHONE, after=after, timeout=10)
        late_code = re.search(r"\b(\d{6})\b", late.body)
        assert late_code is not None
        clock.advance(timedelta(minutes=11))
        assert (await _check_code(client, "s-nurse", late_code.group(1))).status == 401
        for _ in range(2):  # five attempts for the name in the window: refused
            await _ask_code(client, "s-nurse")
        blocked = await _ask_code(client, "s-nurse")
        assert blocked.status == 429 and "Too many failed attempts" in await blocked.text()


def _same_page(page: str, name: str) -> str:
    """The page with the name asked about and the form's token taken out."""
    return page.replace(name, "NAME").replace(csrf_of(page), "TOKEN")


def _sender_key() -> Any:
    from dispatch.web.console.signin_code import SENDER

    return SENDER
