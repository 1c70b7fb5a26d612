"""The demo's risk part: a client drifts to elevated from three early warning signs, the
on-duty worker gets a same-day outreach SMS, visits, and the level falls back."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from dispatch.clients.inputs import ContactInput
from dispatch.demo.journey_part import board_row
from dispatch.demo.seed import TEAM_ID
from dispatch.risk.board import render_board
from dispatch.risk.events import PlanAction, WarningSign
from dispatch.risk.intake import PlanInput, parse_signal, plan_event, signal_event
from projections.risk_queries import RiskQueries

if TYPE_CHECKING:
    from dispatch.demo.scenario import DemoReport
    from dispatch.stack.runtime import Stack

CLIENT = "c-05"
SIGNS = (("sleep_loss", 40), ("withdrawal", 20), ("missed_meds", 0))  # (sign, hours ago)


async def _until_level(queries: RiskQueries, level: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while await queries.level(CLIENT) != level:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{CLIENT} not {level} after {timeout_s}s")
        await asyncio.sleep(0.05)


async def run_risk_part(stack: Stack, report: DemoReport, phones: Any) -> None:
    sandbox: Any = stack.sandbox
    after = max((m.index for m in sandbox.messages), default=0)
    now = stack.clock.now()
    queries = RiskQueries(stack.pool)
    primary = (await stack.read_models.on_duty(TEAM_ID, now)).primary
    assert primary is not None
    plan = PlanInput(
        warning_signs=(
            WarningSign(sign="sleep_loss", description="sleeps under 4 hours"),
            WarningSign(sign="withdrawal", description="stops answering the door"),
            WarningSign(sign="missed_meds", weight=1.0, description="depot or blister missed"),
        ),
        triggers=("anniversary of a bereavement",),
        actions=(PlanAction(contact="care coordinator", offer="same-day home visit"),),
    )  # the plan as `dispatch plan c-05 --file plan.yaml --by s-nurse` records it
    recorded = await plan_event(queries, client_id=CLIENT, plan=plan, team_id=TEAM_ID,
                                agreed_by="s-nurse", now=now)  # fmt: skip
    await stack.spool.record([recorded])
    report.say(f"[risk]  relapse plan recorded for {CLIENT}: sleep loss, withdrawal, missed meds")
    for sign, hours_ago in SIGNS:
        body = {"source": "staff", "sign": sign, "severity": 2}
        body["occurred_at"] = (now - timedelta(hours=hours_ago)).isoformat()
        event = await signal_event(
            queries,
            client_id=CLIENT,
            signal=parse_signal(body),
            team_id=TEAM_ID,
            reported_by="demo:s-social",
            now=now,
        )
        await stack.spool.record([event])
        report.say(f"[risk]  signal {sign} (staff, severity 2) observed {hours_ago} h ago")
    await _until_level(queries, "elevated")
    sms = await phones.wait_for_sms(primary.phone, after=after, timeout=20)
    report.say(f'[risk]  {CLIENT} is now ELEVATED; SMS to {primary.display_name}: "{sms["body"]}"')
    visit = ContactInput(kind="face_to_face", where="home", staff_ids=(primary.staff_id,))
    await stack.services.journey.contact(CLIENT, visit, actor=primary.staff_id)
    await _until_level(queries, "stable")
    row = await board_row(stack, CLIENT, lambda r: not r.outreach_due)
    report.say(f"[visit] {primary.display_name} visited {CLIENT}; risk back to stable, "
               "outreach task closed")  # fmt: skip
    report.say(render_board(TEAM_ID, [row], stack.clock.now()))
