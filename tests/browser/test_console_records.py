"""The client page and the incident review in a real headless Chromium against the whole
stack: a crisis call passed on, taken and closed by SMS is the incident; a second call is
open on the board. The client page (from the board) shows risk, plans, contacts, carers and
consent, and its opening is an audit event; another team sees nothing; a manager opens the
incident list and the incident, whose figures are the review desk's; a staff member is
refused the review; no console error on any page.

UPDATE_SCREENSHOTS=1 writes docs/console-client.png and docs/console-review.png (shown in
README); otherwise they go to the test's temporary directory.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from dispatch.review.render import duration
from dispatch.stack.runtime import Stack
from dispatch.web.console.passwords import hash_password
from integrations.twilio.sandbox import SandboxPhones
from projections.console_accounts import NewAccount
from tests.browser.console_team import PASSWORD
from tests.browser.records_team import (
    BACKUP,
    CARE_PLAN,
    CLIENT,
    CLIENT_NAME,
    CLIENT_PHONE,
    CONTACT_NOTE,
    LINE,
    MANAGER,
    PRIMARY,
    STAFF,
    TEAM,
    add_records_accounts,
    records_team_events,
)
from tests.browser.test_console import sign_in
from tests.e2e.helpers import code_of, last_index, next_page, reply_by_sms, until
from tests.e2e.south_team import NURSE as SOUTH_NURSE

ROOT = Path(__file__).resolve().parents[2]
WAIT_MS = 10_000
OUTCOME = "visited at home, safe with his brother"


@dataclass(frozen=True)
class Records:
    base: str
    incident: str  # passed on, taken and closed by SMS
    open_code: str  # waiting on the board


def shot_path(name: str, tmp_path: Path) -> Path:
    return ROOT / "docs" / name if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path / name


async def call(stack: Stack, phones: Any) -> str:
    """The client calls the crisis line; the code of the page the primary gets."""
    after = last_index(stack)
    status, twiml = await phones.place_call(CLIENT_PHONE, LINE)
    assert status == 200 and "<Dial" in twiml, twiml
    return code_of(str((await next_page(phones, STAFF[PRIMARY][0], after=after))["body"]))


@pytest.fixture(scope="session")  # shared with test_console_access.py
async def records(stack: Stack) -> AsyncIterator[Records]:
    phones = SandboxPhones(stack.settings.twilio_api_base_url)
    try:
        yield await _incidents(stack, phones)
    finally:
        await phones.close()


async def _incidents(stack: Stack, phones: Any) -> Records:
    now = stack.clock.now()
    await stack.publisher.publish(records_team_events(now))
    await stack.projector.wait_until_caught_up(timeout=30)
    await add_records_accounts(stack.services.accounts, now, PASSWORD)
    other = NewAccount(
        account_id=SOUTH_NURSE,
        staff_id=SOUTH_NURSE,
        team_id=None,
        role="staff",
        created_at=now,
        created_by="test",
        password_hash=hash_password(PASSWORD),
    )
    await stack.services.accounts.create(other)  # another team's nurse (may exist already)
    code = await call(stack, phones)
    after = last_index(stack)
    assert "passed on" in (await reply_by_sms(stack, phones, STAFF[PRIMARY][0], f"ESC {code}"))
    await next_page(phones, STAFF[BACKUP][0], after=after)
    await reply_by_sms(stack, phones, STAFF[BACKUP][0], f"ACK {code}")
    assert "closed" in await reply_by_sms(stack, phones, STAFF[BACKUP][0], f"DONE {code} {OUTCOME}")
    open_code = await call(stack, phones)
    await stack.projector.wait_until_caught_up(timeout=20)
    return Records(stack.settings.public_base_url, code, open_code)


def errors(page: Any) -> list[str]:
    """The page's console errors but the board's event stream cut by leaving the board."""
    return [e for e in page.console_errors if "/console/board/events" not in e]


async def viewed(stack: Stack, view: str, viewer: str) -> list[dict[str, Any]]:
    await stack.projector.wait_until_caught_up(timeout=10)
    events = await stack.read_models.archive(key=TEAM)
    return [e.payload for e in events if e.type == "ClientRecordsViewed"
            and e.payload["view"] == view and e.payload["viewer"] == viewer]  # fmt: skip


async def test_the_client_page_shows_the_record_and_its_opening_is_recorded(
    page: Any, records: Records, stack: Stack, tmp_path: Path
) -> None:
    """From the board's row to the client page: risk with reasons and its chart, the plans
    with review dates, contacts, carers with the consent in force, open work (the waiting
    dispatch, the follow-up of the closed one); one ClientRecordsViewed; another team's
    nurse gets not found and nothing of the client."""
    await sign_in(page, records.base, BACKUP)
    row = page.locator(f"#d-{records.open_code}")
    await row.wait_for(timeout=WAIT_MS)
    await row.locator("a.client-link").click()
    await page.wait_for_url(f"**/console/clients/{CLIENT}")
    level = await stack.services.risk_queries.level(CLIENT)
    assert level is not None  # the calls raised it
    text = await page.inner_text("main")
    for fact in (CLIENT_NAME, CLIENT_PHONE, level.upper(), "Pacing at night",
                 "Letters from the housing office", CARE_PLAN, "Back to the allotment",
                 "Care coordinator\nHarbour nurse", CONTACT_NOTE,
                 "face to face (home) by Harbour nurse, Harbour social worker, 45 min",
                 "Alex Marsh (brother)", "may be told crisis status, care plan",
                 "Pat Doyle (neighbour)", "No consent in force", records.open_code,
                 "Post-crisis follow-up"):  # fmt: skip
        assert fact in text, fact
    reasons = (await stack.pool.fetchval("SELECT reasons FROM client_risk WHERE client_id = $1",
                                         CLIENT))  # fmt: skip
    assert reasons and all(r in text for r in reasons)
    assert await page.locator("#risk-chart polyline.risk-line").count() == 1
    assert await page.locator("#risk-chart circle.dot").count() >= 1
    await page.set_viewport_size({"width": 360, "height": 740})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    await page.set_viewport_size({"width": 1280, "height": 900})
    shot = shot_path("console-client.png", tmp_path)
    await page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    (read,) = await until(lambda: viewed(stack, "console:client", f"console:staff:{BACKUP}"),
                          what="the client page's read recorded")  # fmt: skip
    assert read["client_ids"] == [CLIENT]

    await page.goto(f"{records.base}/d/{records.open_code}")  # the SMS link's page links too
    await page.click("text=Full client record")
    await page.wait_for_url(f"**/console/clients/{CLIENT}")
    assert errors(page) == []

    await page.context.clear_cookies()
    await sign_in(page, records.base, SOUTH_NURSE)
    response = await page.goto(f"{records.base}/console/clients/{CLIENT}")
    assert response.status == 404
    text = await page.inner_text("body")
    assert CLIENT_NAME not in text and CARE_PLAN not in text and "Alex Marsh" not in text
    assert errors(page) == [
        "Failed to load resource: the server responded with a status of 404 (Not Found)"
    ]


async def test_a_manager_reviews_the_incident_with_the_review_desks_figures(
    page: Any, records: Records, stack: Stack, tmp_path: Path
) -> None:
    """Incident review from the nav: the list has the incident with its figures, the
    incident page has every figure, page and escalation as the review desk computes them,
    and its charts; both reads are recorded as the desk records them."""
    desk = stack.services.review
    code = records.incident
    await sign_in(page, records.base, MANAGER)
    await page.click("nav >> text=Incident review")
    await page.wait_for_url("**/console/review")
    row = page.locator(f"#incident-{code}")
    await row.wait_for()
    now = stack.clock.now()
    summaries = await desk.incidents(TEAM, now - timedelta(days=1), now, viewer="test")
    (summary,) = [s for s in summaries if s.short_code == code]
    cells = await row.locator("td").all_inner_texts()
    assert cells[4:9] == [duration(summary.to_acknowledgement_s), duration(summary.mtta_s),
                          duration(summary.to_resolution_s), "1", str(summary.pages)]  # fmt: skip
    assert cells[9] == OUTCOME
    assert await page.locator("#engage-over-time circle.dot").count() == len(summaries)
    await page.screenshot(path=str(tmp_path / "console-review-list.png"), full_page=True)

    await row.locator("a").click()
    await page.wait_for_url(f"**/console/review/incidents/{code}")
    incident = await desk.incident(code, team_id=TEAM, viewer="test")
    assert incident is not None and len(incident.escalations) == 1
    for f in incident.figures:
        shown = await page.inner_text(f"#figure-{f.name} td.num")
        assert shown == (duration(f.seconds) if f.at else f.note), f.name
    pages = await page.locator("#pages tbody tr").all_inner_texts()
    assert len(pages) == len(incident.pages)
    for p, line in zip(incident.pages, pages, strict=True):
        assert p.staff_id in line and p.channel in line and p.outcome in line
    (esc,) = incident.escalations
    shown_esc = await page.inner_text("#escalations")  # as `dispatch review incident` says it
    assert f"requested: round {esc.round} step {esc.step}, paged {BACKUP}" in shown_esc
    timeline = page.locator(f"#timeline-{code} circle.dot")
    assert await timeline.count() == len(incident.timeline)
    assert await page.locator(f"#figures-{code} rect.bar").count() >= 4
    assert await page.locator("#timeline tbody tr").count() == len(incident.timeline)
    for wide in (360, 1280):  # a phone in the field, then the picture
        await page.set_viewport_size({"width": wide, "height": 900})
        assert await page.evaluate("document.documentElement.scrollWidth") <= wide
    shot = shot_path("console-review.png", tmp_path)
    await page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    viewer = f"console:manager:{MANAGER}"
    await until(lambda: viewed(stack, f"review:incident:{code}", viewer), what="incident read")
    await until(lambda: viewed(stack, "review:incidents", viewer), what="list read")

    response = await page.goto(f"{records.base}/console/review?from=last+week")
    assert response.status == 400
    assert "from: must be a date, YYYY-MM-DD" in await page.inner_text("#problem")
    assert errors(page) == [
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]


async def test_a_staff_member_cannot_open_the_review_and_finds_the_api_docs(
    page: Any, records: Records, stack: Stack
) -> None:
    """No review link for staff, a 403 page for the list and an incident and nothing read;
    the API docs are linked from the nav."""
    await sign_in(page, records.base, PRIMARY)
    nav = await page.inner_text("header nav")
    assert "Incident review" not in nav and "API docs" in nav
    for path in ("/console/review", f"/console/review/incidents/{records.incident}"):
        response = await page.goto(f"{records.base}{path}")
        assert response.status == 403, path
        assert "Not for your role" in await page.inner_text("main")
        assert records.incident not in await page.inner_text("main")
    assert await viewed(stack, f"review:incident:{records.incident}",
                        f"console:staff:{PRIMARY}") == []  # fmt: skip
    await page.click("header nav >> text=API docs")
    await page.wait_for_url("**/api/docs")
    await page.get_by_text("/api/review/incidents").first.wait_for()
    assert (
        errors(page)
        == ["Failed to load resource: the server responded with a status of 403 (Forbidden)"] * 2
    )
