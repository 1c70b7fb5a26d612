"""The on-call and rota calendar page, the huddle board page and signing in with a code by
SMS, in a real headless Chromium against the whole stack (the e2e stack: broker,
PostgreSQL, Twilio sandbox, worker), for a team of their own (rota_team.py).

UPDATE_SCREENSHOTS=1 writes the calendar's screenshot to docs/console-rota.png (the one
the README shows); otherwise it goes to the test's temporary directory.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dispatch.stack.runtime import Stack
from tests.browser.rota_team import (
    ANN,
    BOB,
    CAT,
    CLIENT,
    LEAD,
    PASSWORD,
    SPARE,
    STAFF,
    TEAM,
    ZONE,
    add_rota_accounts,
    rota_team_events,
)
from tests.e2e.helpers import last_index, until

ROOT = Path(__file__).resolve().parents[2]
BOB_AUDIT = f"console:staff:{BOB}"


@pytest.fixture(scope="module")
async def console(stack: Stack) -> str:
    """The rota team on the stack, with accounts; the console's base URL."""
    now = stack.clock.now()
    await stack.publisher.publish(rota_team_events(now))
    await stack.projector.wait_until_caught_up(timeout=30)
    await add_rota_accounts(stack.services.accounts, now)
    return stack.settings.public_base_url


async def sign_in(page: Any, base: str, account: str, then: str = "/console/rota") -> None:
    """Signed in straight to `then` (not via the board, whose stream a next page cuts)."""
    await page.goto(f"{base}/console/login?next={then}")
    await page.fill("#account", account)
    await page.fill("#password", PASSWORD)
    await page.click("form.stack button[type=submit]")
    await page.wait_for_load_state()


async def archived(stack: Stack, event_type: str) -> list[dict[str, Any]]:
    await stack.projector.wait_until_caught_up(timeout=10)
    events = await stack.read_models.archive(key=TEAM)
    return [e.payload for e in events if e.type == event_type]


async def test_the_rota_shows_who_is_on_call_and_a_lead_adds_an_override_a_staff_member_cannot(
    page: Any, console: str, stack: Stack, tmp_path: Path
) -> None:
    """On call now names today's primary and backup; the week shows the swap and the
    out-of-hours fallback; a lead's override with its end before its start is refused next
    to the field, then added and shown on the calendar; a staff member has no form and a
    POST is refused. The calendar's screenshot; no console error."""
    now = stack.clock.now()
    duty = await stack.read_models.on_duty(TEAM, now)
    assert duty.covered and duty.primary is not None and duty.backup is not None
    await sign_in(page, console, LEAD)
    on_call = await page.locator("#oncall-now").inner_text()
    assert duty.primary.display_name in on_call and duty.backup.display_name in on_call
    week = await page.locator("#rota-calendar").inner_text()
    assert "out of hours: fallback" in week and "team act-north" in week and "swap" in week

    # Four hours tomorrow inside the team's covered hours (daily, from 2 hours before this
    # hour to 12 after: rota_team.py) and inside tomorrow's row: "an hour from now plus a
    # day" crossed midnight when the test ran in the evening, and failed.
    local = now.astimezone(ZoneInfo(ZONE))
    covered = {(local.hour - 2 + h) % 24 for h in range(14)}
    first = next(h for h in range(21) if {h, h + 1, h + 2, h + 3} <= covered)
    starts = (local + timedelta(days=1)).replace(hour=first, minute=0, second=0, microsecond=0)
    ends = starts + timedelta(hours=4)
    await page.select_option("#layer", "backup")
    await page.select_option("#staff_id", SPARE)
    await page.fill("#starts_at", f"{ends:%Y-%m-%dT%H:%M}")
    await page.fill("#ends_at", f"{starts:%Y-%m-%dT%H:%M}")
    await page.click("#override-form button[type=submit]")
    assert "must be after starts_at" in await page.locator("#problem-ends_at").inner_text()
    # The refusal is the API's status (400) on the page that shows it; nothing else failed.
    assert page.console_errors == [
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]
    page.console_errors.clear()
    await page.fill("#starts_at", f"{starts:%Y-%m-%dT%H:%M}")
    await page.fill("#ends_at", f"{ends:%Y-%m-%dT%H:%M}")
    await page.click("#override-form button[type=submit]")
    await page.wait_for_url("**/console/rota")
    assert "Override recorded" in await page.locator("main").inner_text()
    tomorrow = page.locator("#rota-calendar tbody tr").nth(1).locator("td[data-layer=backup]")

    async def shown() -> bool:
        text = await tomorrow.inner_text()
        if f"{starts:%H:%M}\N{EN DASH}{ends:%H:%M} Eli Navarro override" in text:
            return True
        await page.reload()
        return False

    await until(shown, what="the override on the calendar")
    assert "Eli Navarro" in await page.locator("#overrides").inner_text()
    shot = ROOT / "docs" / "console-rota.png" if os.environ.get("UPDATE_SCREENSHOTS") == "1" \
        else tmp_path / "console-rota.png"  # fmt: skip
    await page.set_viewport_size({"width": 1280, "height": 720})
    await page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    await page.set_viewport_size({"width": 360, "height": 740})  # a phone in the field
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.console_errors == []

    await page.context.clear_cookies()
    await sign_in(page, console, ANN)
    assert await page.locator("#override-form").count() == 0
    assert await page.locator("#rota-calendar").count() == 1
    assert page.console_errors == []
    status = await page.evaluate(
        """async (staff) => {
             const csrf = document.querySelector('input[name=csrf]').value;
             const body = new URLSearchParams({csrf, layer: 'primary', staff_id: staff,
               starts_at: '2030-01-01T09:00', ends_at: '2030-01-01T10:00'});
             return (await fetch('/console/rota/overrides', {method: 'POST', body})).status;
           }""",
        ANN,
    )
    assert status == 403
    assert [o["staff_id"] for o in await archived(stack, "OverrideScheduled")] == [SPARE]


async def test_the_huddle_page_is_a_recorded_read_and_its_button_records_the_meeting(
    page: Any, console: str, stack: Stack
) -> None:
    """The board lists the team's client; viewing it is a ClientRecordsViewed like the
    API's; "The meeting was held" records TeamMeetingHeld; no console error."""
    await sign_in(page, console, BOB, "/console/huddle")
    assert CLIENT[0] in await page.locator("#huddle-clients").inner_text()

    async def viewed() -> list[dict[str, Any]]:
        reads = await archived(stack, "ClientRecordsViewed")
        return [p for p in reads if p["view"] == "huddle_board" and p["viewer"] == BOB_AUDIT]

    (read,) = await until(viewed, what="the read recorded")
    assert read["client_ids"] == [CLIENT[0]]
    await page.check(f"input[name=attendees][value={ANN}]")
    await page.click("#meeting-held")
    await page.wait_for_url("**/console/huddle")
    assert "Recorded: the meeting of" in await page.locator("main").inner_text()
    (meeting,) = await until(lambda: archived(stack, "TeamMeetingHeld"), what="the meeting")
    assert meeting["attendees"] == [ANN] and meeting["clients_reviewed"] == 1
    await page.reload()
    held = await page.locator("#meeting-state").inner_text()
    assert "Today's meeting is recorded as held." in held
    assert page.console_errors == []


async def test_a_code_by_sms_signs_in_once_and_a_wrong_or_used_code_fails(
    page: Any, console: str, stack: Stack, phones: Any
) -> None:
    """ "Send me a code": the code reaches the staff phone through the Twilio sandbox; a
    wrong code is refused; the right one signs in; used again it fails; no console error."""
    after = last_index(stack)
    await page.goto(f"{console}/console/login?next=/console/rota")
    await page.click("#send-code")
    await page.fill("#account", CAT)
    await page.click("#code-request button[type=submit]")
    assert "on its way" in await page.locator("#code-said").inner_text()
    sms = await phones.wait_for_sms(STAFF[CAT][0], after=after, timeout=20)
    found = re.search(r"\b(\d{6})\b", str(sms["body"]))
    assert found is not None
    code = found.group(1)

    await page.fill("#code", "000000" if code != "000000" else "111111")
    await page.click("#code-check button[type=submit]")
    assert "wrong, used or expired" in await page.locator("main").inner_text()
    await page.fill("#code", code)
    await page.click("#code-check button[type=submit]")
    await page.wait_for_url("**/console/rota")  # on to where sign-in was asked for
    assert STAFF[CAT][2] in await page.locator("header").inner_text()
    # The refusal is a 401 page; nothing else failed.
    assert page.console_errors == [
        "Failed to load resource: the server responded with a status of 401 (Unauthorized)"
    ]

    await page.context.clear_cookies()
    await page.goto(f"{console}/console/login/code/check?account={CAT}")
    await page.fill("#code", code)
    await page.click("#code-check button[type=submit]")
    assert "wrong, used or expired" in await page.locator("main").inner_text()
    assert "/console/login/code/check" in page.url
