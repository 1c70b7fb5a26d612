"""Client risk on the real stack: signals -> elevated -> crisis call -> visit -> huddle board."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from click.testing import CliRunner

from dispatch.cli import main
from dispatch.clients.events import ClientEnrolled, ContactRecorded
from dispatch.demo.seed import TEAM_ID
from dispatch.events import new_event
from dispatch.risk.events import RelapsePlanRecorded, WarningSign
from dispatch.stack.runtime import Stack
from integrations.twilio.sandbox import SandboxPhones
from projections.risk_queries import RiskQueries
from tests.e2e.helpers import (
    last_index,
    next_page,
    on_duty_primary,
    pages_settled,
    sms_count,
    spool_total,
    until,
)

TOKEN = "north-lead-token"


async def _api(
    stack: Stack, method: str, path: str, body: Any = None, token: str = TOKEN
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            method, f"{stack.settings.public_base_url}{path}", json=body, headers=headers
        ) as resp,
    ):
        data = await resp.json() if resp.content_type == "application/json" else {}
        return resp.status, data


async def _enrol(stack: Stack, client_id: str, phone: str, since: datetime) -> None:
    events = [
        new_event(
            payload,
            key=client_id,
            occurred_at=since,
            recorded_at=stack.clock.now(),
            actor="test",
        )
        for payload in (
            ClientEnrolled(
                client_id=client_id, team_id=TEAM_ID, display_name="Client R1", phone=phone
            ),
            RelapsePlanRecorded(
                client_id=client_id,
                warning_signs=(WarningSign(sign="sleep_loss"), WarningSign(sign="withdrawal")),
                triggers=("housing move",),
                agreed_by="s-nurse",
            ),
        )
    ]
    await stack.publisher.publish(events)
    await until(lambda: stack.read_models.caller_by_phone(phone), what="client enrolled")
    await until(lambda: _is(stack.read_models.caller_by_phone(phone), "client"), what="client row")


async def _is(coro: Any, kind: str) -> bool:
    return bool((await coro).kind == kind)


def _signal(sign: str, at: datetime) -> dict[str, Any]:
    return {"source": "staff", "sign": sign, "severity": 2, "occurred_at": at.isoformat()}


async def _level(stack: Stack, client_id: str, level: str) -> bool:
    return await RiskQueries(stack.pool).level(client_id) == level


async def test_signals_crisis_call_and_visit_move_the_risk_and_show_on_the_board(
    stack: Stack, phones: SandboxPhones
) -> None:
    """Three signs in 48 h: elevated + outreach SMS; a crisis call: crisis + dispatch; a visit
    lowers it; the huddle board shows all of it."""
    client_id, phone = "c-r01", "+15550209901"
    now = stack.clock.now()
    await _enrol(stack, client_id, phone, now - timedelta(days=2))
    primary = await on_duty_primary(stack)
    after = last_index(stack)
    for sign, hours_ago in (("sleep_loss", 40), ("withdrawal", 20), ("missed_meds", 0)):
        status, body = await _api(
            stack,
            "POST",
            f"/api/clients/{client_id}/signals",
            _signal(sign, now - timedelta(hours=hours_ago)),
        )
        assert status == 202, body
    await until(lambda: _level(stack, client_id, "elevated"), what="elevated")
    sms = await next_page(phones, primary.phone, after=after, timeout=20)
    assert sms["body"].startswith("ACT OUTREACH") and client_id not in sms["body"]

    after = last_index(stack)
    status, _ = await phones.place_call(phone, stack.settings.crisis_line_number)
    assert status == 200
    await until(lambda: _level(stack, client_id, "crisis"), what="crisis")
    page = await next_page(phones, primary.phone, after=after, timeout=20)
    assert "crisis call (client)" in page["body"]
    dispatches = await until(lambda: _open_dispatches(stack, client_id), what="the call's dispatch")
    assert [d.reason for d in dispatches] == ["crisis_call"]  # one dispatch, not two

    visit = new_event(
        ContactRecorded(client_id=client_id, staff_id=primary.staff_id, kind="face_to_face"),
        key=client_id,
        occurred_at=stack.clock.now(),
        recorded_at=stack.clock.now(),
        actor=primary.staff_id,
    )
    await stack.publisher.publish([visit])
    await until(lambda: _level(stack, client_id, "elevated"), what="lowered after the visit")

    board = await until(lambda: _outreach_done(stack, client_id), what="outreach closed")
    assert board["team_id"] == TEAM_ID
    row = next(c for c in board["clients"] if c["client_id"] == client_id)
    assert row["level"] == "elevated" and row["last_face_to_face_at"]
    assert any("face-to-face visit" in r for r in row["reasons"])
    assert row["open_dispatches"] == [dispatches[0].short_code]
    assert not row["outreach_due"] and not row["plan_review_overdue"]  # the visit did it
    changes = " | ".join(row["changes_24h"])
    for seen in ("stable -> elevated", "elevated -> crisis", "crisis -> elevated", "missed_meds"):
        assert seen in changes
    levels = [r["level"] for r in board["clients"]]
    assert levels.index("elevated") < levels.index("stable")  # highest risk first
    await _settle(stack, phones, client_id, primary.phone)


async def _outreach_done(stack: Stack, client_id: str) -> Any:
    """The huddle board once the visit's closing of the outreach task is projected."""
    status, board = await _api(stack, "GET", "/api/huddle")
    assert status == 200
    row = next(c for c in board["clients"] if c["client_id"] == client_id)
    return board if not row["outreach_due"] else None


async def _settle(stack: Stack, phones: SandboxPhones, client_id: str, staff_phone: str) -> None:
    """Close the client's dispatches (no escalation keeps paging) and wait for every
    page's delivery report, so no late callback lands in a later test. A dispatch that is
    projected only after the first look (the risk agent may still be opening it) is closed
    on a later look, not left escalating."""
    closed: set[str] = set()

    async def none_open() -> bool:
        for d in await _open_dispatches(stack, client_id):
            if d.short_code not in closed:
                reply = f"DONE {d.short_code} seen at home, safe"
                sent = await phones.send_sms(staff_phone, stack.settings.twilio_from_number, reply)
                assert sent[0] == 200
                closed.add(d.short_code)
        return await _none_open(stack, client_id)

    await until(none_open, what="dispatches closed", within_s=60)

    await pages_settled(stack, client_id)


async def _none_open(stack: Stack, client_id: str) -> bool:
    return not await _open_dispatches(stack, client_id)


async def _open_dispatches(stack: Stack, client_id: str) -> list[Any]:
    rows = await stack.read_models.open_dispatches(TEAM_ID)
    return [d for d in rows if d.client_id == client_id]


async def test_refused_signals_change_nothing(stack: Stack) -> None:
    """A carer without consent gets 403, bad input 400 naming the field; nothing is spooled."""
    before = await spool_total(stack, "c-09")
    carer = {"source": "carer", "sign": "sleep_loss", "severity": 3, "carer_id": "carer-c-09"}
    status, body = await _api(stack, "POST", "/api/clients/c-09/signals", carer)
    assert status == 403 and body["field"] == "carer_id"
    status, body = await _api(
        stack, "POST", "/api/clients/c-09/signals", {"source": "staff", "sign": "x"}
    )
    assert status == 400 and body["field"] == "severity"
    status, body = await _api(
        stack,
        "POST",
        "/api/clients/c-09/signals",
        {"source": "staff", "sign": "x", "severity": 1},
        token="other-team-token",
    )
    assert status == 404
    assert await spool_total(stack, "c-09") == before


async def test_cli_records_a_consented_carer_signal_and_prints_the_huddle(stack: Stack) -> None:
    """`dispatch signal` records a consented carer's sign; `dispatch huddle` lists the team."""
    env = {
        "DATABASE_URL": stack.settings.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": stack.settings.kafka_bootstrap_servers,
    }
    runner = CliRunner()
    args = ["signal", "c-06", "--source", "carer", "--carer", "carer-c-06"]
    result = await asyncio.to_thread(
        runner.invoke, main, [*args, "--sign", "carer_concern", "--severity", "2"], env=env
    )
    assert result.exit_code == 0, result.output
    refused = await asyncio.to_thread(
        runner.invoke,
        main,
        ["signal", "c-06", "--source", "staff", "--sign", "x", "--severity", "7"],
        env=env,
    )
    assert refused.exit_code == 2 and "severity" in refused.output
    await until(
        lambda: stack.pool.fetchval(
            "SELECT count(*) FROM relapse_signals WHERE client_id = 'c-06' AND actor = $1",
            "carer:carer-c-06",
        ),
        what="carer signal projected",
    )
    board = await asyncio.to_thread(runner.invoke, main, ["huddle", "--team", TEAM_ID], env=env)
    assert board.exit_code == 0, board.output
    assert "c-06" in board.output and "signal carer_concern (carer, severity 2)" in board.output


async def test_a_client_not_seen_within_the_target_raises_a_missed_contact_alert(
    stack: Stack,
) -> None:
    """No face-to-face contact for longer than the ACT target: the timer alerts once, the
    board flags it, and a visit clears the flag."""
    client_id = "c-r02"
    await _enrol(stack, client_id, "+15550209902", stack.clock.now() - timedelta(days=4))
    count = "SELECT count(*) FROM missed_contact_alerts WHERE client_id = $1"
    await until(lambda: stack.pool.fetchval(count, client_id), what="missed-contact alert")
    status, board = await _api(stack, "GET", "/api/huddle")
    row = next(c for c in board["clients"] if c["client_id"] == client_id)
    assert status == 200 and row["missed_contact_since"]
    visit = new_event(
        ContactRecorded(client_id=client_id, staff_id="s-nurse", kind="face_to_face"),
        key=client_id,
        occurred_at=stack.clock.now(),
        recorded_at=stack.clock.now(),
        actor="s-nurse",
    )
    await stack.publisher.publish([visit])

    async def cleared() -> bool:
        rows = await RiskQueries(stack.pool).huddle(TEAM_ID, stack.clock.now())
        return next(r for r in rows if r.client_id == client_id).missed_contact_since is None

    await until(cleared, what="flag cleared by the visit")
    assert await stack.pool.fetchval(count, client_id) == 1


async def test_a_plan_recorded_through_the_api_shows_its_review_date(stack: Stack) -> None:
    """POST a plan: it is projected and the board shows when its review is due."""
    plan = {
        "warning_signs": [{"sign": "withdrawal", "weight": 1.5}],
        "actions": [{"contact": "mother (consent on file)", "offer": "visit with peer worker"}],
    }
    status, body = await _api(stack, "POST", "/api/clients/c-07/plan", plan)
    assert status == 202 and body["type"] == "RelapsePlanRecorded"
    status, bad = await _api(stack, "POST", "/api/clients/c-07/plan", {**plan, "actions": []})
    assert status == 400 and bad["field"] == "actions"

    async def review_due() -> Any:
        _, board = await _api(stack, "GET", "/api/huddle")
        row = next(c for c in board["clients"] if c["client_id"] == "c-07")
        return row["plan_review_due"]

    assert await until(review_due, what="plan projected")


async def test_a_score_rising_to_high_opens_an_urgent_dispatch_and_pages(
    stack: Stack, phones: SandboxPhones
) -> None:
    """Two severe signs: elevated then high, a risk_high dispatch, an urgent SMS page."""
    client_id = "c-r03"
    await _enrol(stack, client_id, "+15550209903", stack.clock.now())
    primary = await on_duty_primary(stack)
    after = last_index(stack)
    for sign, severity in (("substance_use", 5), ("carer_concern", 4)):
        body = {"source": "staff", "sign": sign, "severity": severity}
        assert (await _api(stack, "POST", f"/api/clients/{client_id}/signals", body))[0] == 202
    await until(lambda: _level(stack, client_id, "high"), what="high")
    (dispatch,) = await until(lambda: _open_dispatches(stack, client_id), what="risk dispatch")
    assert dispatch.reason == "risk_high" and dispatch.risk_level == "high"
    # The first sign made the client elevated (a non-urgent outreach text), the second high
    # (an urgent page). Both come; which arrives first is not promised: the two signs can
    # be folded in one batch, and pages of different dispatches are sent side by side.
    page = f"ACT HIGH {dispatch.short_code}: risk rising (client)"
    await until(lambda: sms_count(stack, primary.phone, page), what="urgent page")
    await until(
        lambda: sms_count(stack, primary.phone, "ACT OUTREACH", after=after), what="outreach text"
    )
    await _settle(stack, phones, client_id, primary.phone)
