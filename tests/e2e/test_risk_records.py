"""Recording hospital stays, plans and reads on the real stack; targets and reviews by timer."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from dispatch.cli import main
from dispatch.clients.events import ClientEnrolled
from dispatch.demo.seed import TEAM_ID
from dispatch.events import Envelope, new_event
from dispatch.events.envelope import EventPayload
from dispatch.risk.events import RelapsePlanRecorded, WarningSign
from dispatch.rota.events import TeamFormed
from dispatch.stack.runtime import Stack
from tests.e2e.helpers import spool_total, until
from tests.e2e.test_risk_flow import _api

ICM_TEAM = "icm-east"


def _event(stack: Stack, payload: EventPayload, key: str, at: datetime) -> Envelope:
    return new_event(payload, key=key, occurred_at=at, recorded_at=stack.clock.now(), actor="test")


async def _admitted(stack: Stack, client_id: str) -> bool | None:
    admitted: bool | None = await stack.pool.fetchval(
        "SELECT admitted FROM hospital_stays WHERE client_id = $1", client_id
    )
    return admitted


async def test_admission_and_discharge_are_recorded_through_the_api(stack: Stack) -> None:
    """POST admission then discharge: each spooled and projected; bad input (an unknown
    field, a time without its UTC offset, a number for a name) is a 400 naming the field,
    another team's client a 404, and neither records anything."""
    client_id = "c-10"
    before = await spool_total(stack, client_id)
    path = f"/api/clients/{client_id}"
    status, bad = await _api(stack, "POST", f"{path}/admission", {"occurred_at": "monday"})
    assert (status, bad["field"]) == (400, "occurred_at")
    status, bad = await _api(stack, "POST", f"{path}/admission", {"ward": "3"})
    assert (status, bad["field"]) == (400, "ward")
    for strictly_wrong in ({"occurred_at": "2026-11-24T14:00:00"}, {"facility": 3}):
        status, bad = await _api(stack, "POST", f"{path}/admission", strictly_wrong)
        assert (status, bad["field"]) == (400, next(iter(strictly_wrong)))
    status, _ = await _api(stack, "POST", f"{path}/admission", {}, token="other-team-token")
    assert status == 404
    assert await spool_total(stack, client_id) == before

    status, body = await _api(stack, "POST", f"{path}/admission", {"facility": "St Anne's"})
    assert (status, body["type"]) == (202, "HospitalAdmissionRecorded")
    await until(lambda: _admitted(stack, client_id), what="admission projected")
    status, body = await _api(stack, "POST", f"{path}/discharge", {})
    assert (status, body["type"]) == (202, "HospitalDischargeRecorded")

    async def discharged() -> bool:
        return await _admitted(stack, client_id) is False

    await until(discharged, what="discharge projected")


async def test_the_cli_records_a_plan_from_a_file_and_a_hospital_admission(
    stack: Stack, tmp_path: Path
) -> None:
    """`dispatch plan --file` records the plan (the board shows its review date) and
    `dispatch hospital admit` the admission; a bad plan names the field and records nothing."""
    env = {
        "DATABASE_URL": stack.settings.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": stack.settings.kafka_bootstrap_servers,
    }
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "warning_signs:\n  - {sign: withdrawal, weight: 2, description: stays in bed}\n"
        "triggers: [anniversary]\n"
        "actions:\n  - {contact: brother (consent on file), offer: same-day visit}\n"
    )
    runner = CliRunner()
    result = await asyncio.to_thread(
        runner.invoke, main, ["plan", "c-08", "--file", str(plan), "--by", "s-nurse"], env=env
    )
    assert result.exit_code == 0 and "RelapsePlan" in result.output, result.output
    before = await spool_total(stack, "c-08")
    plan.write_text("warning_signs: []\nactions: [{contact: GP, offer: call}]\n")
    refused = await asyncio.to_thread(
        runner.invoke, main, ["plan", "c-08", "--file", str(plan)], env=env
    )
    assert refused.exit_code == 2 and "warning_signs" in refused.output
    assert await spool_total(stack, "c-08") == before
    admit = ["hospital", "admit", "c-08", "--facility", "Ward 3", "--by", "s-nurse"]
    result = await asyncio.to_thread(runner.invoke, main, admit, env=env)
    assert result.exit_code == 0 and "HospitalAdmissionRecorded" in result.output, result.output
    await until(lambda: _admitted(stack, "c-08"), what="admission projected")
    await until(
        lambda: stack.pool.fetchval("SELECT plan FROM relapse_plans WHERE client_id = 'c-08'"),
        what="plan projected",
    )


async def test_reading_the_huddle_board_is_recorded(stack: Stack) -> None:
    """Each GET /api/huddle is a ClientRecordsViewed in the archive naming who read which
    clients (the token itself is never stored)."""
    status, board = await _api(stack, "GET", "/api/huddle")
    assert status == 200
    shown = sorted(c["client_id"] for c in board["clients"])

    async def recorded() -> list[object]:
        rows = await stack.pool.fetch(
            """SELECT actor, payload FROM event_archive
               WHERE type = 'ClientRecordsViewed' AND key = $1 AND occurred_at = $2""",
            TEAM_ID,
            datetime.fromisoformat(board["as_of"]),
        )
        return list(rows)

    (row,) = await until(recorded, what="the read archived")
    assert row["actor"].startswith("api:team_lead:") and "north-lead-token" not in row["actor"]
    assert '"view": "huddle_board"' in row["payload"] and all(c in row["payload"] for c in shown)


async def _alerts(stack: Stack, client_id: str) -> int:
    count: int = await stack.pool.fetchval(
        "SELECT count(*) FROM missed_contact_alerts WHERE client_id = $1", client_id
    )
    return count


async def test_an_icm_client_gets_the_icm_target_from_the_teams_service_model(
    stack: Stack,
) -> None:
    """Clients of an ICM team get a 7-day target from the timer: one unseen for 8 days is
    alerted (target 7), one unseen for 4 days (overdue under ACT's 3) is not."""
    now = stack.clock.now()
    team = TeamFormed(
        team_id=ICM_TEAM,
        name="ICM East",
        service_model="ICM",
        time_zone="UTC",
        fallback_number="+15005550198",
        crisis_line_number=None,
    )
    await stack.publisher.publish([_event(stack, team, ICM_TEAM, now - timedelta(days=30))])
    await until(
        lambda: stack.pool.fetchval("SELECT 1 FROM teams WHERE team_id = $1", ICM_TEAM),
        what="ICM team on the roster",
    )
    enrolments = [
        _event(
            stack,
            ClientEnrolled(
                client_id=client_id, team_id=ICM_TEAM, display_name=client_id, phone=None
            ),
            client_id,
            now - timedelta(days=days),
        )
        for client_id, days in (("c-i04", 4), ("c-i08", 8))
    ]
    await stack.publisher.publish(enrolments)
    # Two timer ticks (5 s apart) are needed: the target first, then the alert.
    await until(lambda: _alerts(stack, "c-i08"), what="the 8-day gap alerted", within_s=60)
    await stack.projector.wait_until_caught_up(timeout=20)
    targets = await stack.pool.fetch(
        """SELECT client_id, service_model, target_days FROM client_contact_targets
           WHERE team_id = $1 ORDER BY client_id""",
        ICM_TEAM,
    )
    assert [tuple(r.values()) for r in targets] == [("c-i04", "ICM", 7.0), ("c-i08", "ICM", 7.0)]
    assert await _alerts(stack, "c-i04") == 0
    since = await stack.pool.fetchval(
        "SELECT overdue_at - since FROM missed_contact_alerts WHERE client_id = 'c-i08'"
    )
    assert since == timedelta(days=7)


async def test_a_plan_unreviewed_for_six_months_is_flagged_once_by_the_timer(
    stack: Stack,
) -> None:
    """A plan agreed seven months ago: the timer raises one PlanReviewOverdue, the board
    flags the review as overdue."""
    client_id = "c-r05"
    agreed = stack.clock.now() - timedelta(days=213)
    events = [
        _event(
            stack,
            ClientEnrolled(client_id=client_id, team_id=TEAM_ID, display_name="R5", phone=None),
            client_id,
            agreed,
        ),
        _event(
            stack,
            RelapsePlanRecorded(
                client_id=client_id,
                warning_signs=(WarningSign(sign="sleep_loss"),),
                agreed_by="s-nurse",
            ),
            client_id,
            agreed,
        ),
    ]
    await stack.publisher.publish(events)
    count = "SELECT count(*) FROM plan_review_alerts WHERE client_id = $1"
    await until(lambda: stack.pool.fetchval(count, client_id), what="review flagged", within_s=60)
    _, board = await _api(stack, "GET", "/api/huddle")
    row = next(c for c in board["clients"] if c["client_id"] == client_id)
    assert row["plan_review_overdue"]
    await until(
        lambda: _alerts(stack, client_id), what="a later tick (missed contact)", within_s=60
    )
    await stack.projector.wait_until_caught_up(timeout=20)
    assert await stack.pool.fetchval(count, client_id) == 1
