"""The demo scenario, played through the public entry points only (signed Twilio webhooks).

A client calls the crisis line, the caller is connected to the on-duty worker, the worker
gets an SMS page, replies ACK and later DONE. Returns a readable summary.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from dispatch.demo.journey_part import run_journey_part
from dispatch.demo.risk_part import run_risk_part
from dispatch.demo.seed import (
    CARERS,
    CLIENT_PHONES,
    STAFF,
    TEAM_ID,
    carer_changes,
    consent_changes,
    enrol_clients,
    load_team,
)
from dispatch.escalation.policy import EscalationPolicy, EscalationStep
from dispatch.events import Envelope
from dispatch.stack.runtime import Stack

if TYPE_CHECKING:
    from integrations.twilio.sandbox import SandboxPhones

ESCALATION_TIMEOUT_S = 4


@dataclass
class DemoReport:
    lines: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)

    def say(self, text: str) -> None:
        self.lines.append(text)
        print(text, flush=True)


async def wait_for_status(stack: Stack, code: str, status: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        row = await stack.read_models.dispatch_by_code(code)
        if row is not None and row.status == status:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"dispatch {code} not {status} after {timeout_s}s")
        await asyncio.sleep(0.02)


async def relayed(stack: Stack, timeout_s: float = 15.0) -> None:
    """Wait until the spool's relay has handed every accepted event to the broker."""
    deadline = time.monotonic() + timeout_s
    while await stack.spool.pending():
        if time.monotonic() > deadline:
            raise TimeoutError(f"spooled events not relayed after {timeout_s}s")
        await asyncio.sleep(0.02)


async def _spooled(stack: Stack, events: list[Envelope]) -> None:
    """Record events through the spool and return once the read models have them."""
    if events:
        await stack.spool.record(events)
    await relayed(stack)
    await stack.projector.wait_until_caught_up(timeout=30)


async def seed(stack: Stack, now: datetime) -> None:
    """The demo team, through the paths a real team's facts take: its rota file loaded as
    `dispatch rota load` loads one (team, staff, cover, rotations; spooled, relayed), then
    its clients enrolled through the journey service, then their carers and the clients'
    consent through the carers' intake (each step after the last is projected: the
    services check what it recorded); returns when every read model has them. Consent
    already in force (a stack started again) is left as it is."""
    carers = stack.services.carers
    line = stack.settings.crisis_line_number
    await _spooled(stack, await load_team(stack.services.staff_roster, now, line))
    await enrol_clients(stack.services.journey)
    await _spooled(stack, [])
    await _spooled(stack, await carer_changes(carers, stack.clock.now()))
    grants = await consent_changes(carers, stack.clock.now())
    await _spooled(stack, [g for g in grants if await carers.consent(g.key, _carer(g)) is None])


def _carer(event: Envelope) -> str:
    return str(getattr(event.payload, "carer_id", ""))


async def run_scenario(stack: Stack, report: DemoReport) -> None:
    from integrations.twilio.sandbox import SandboxPhones

    s = stack.settings
    now = stack.clock.now()
    await seed(stack, now)
    consents = sum(1 for _, consents in CARERS.values() if consents)
    report.say(
        f"[team]  {TEAM_ID} loaded from its rota file as `dispatch rota load` loads one "
        f"({len(STAFF)} staff, 24/7 cover, daily primary and backup rotations); "
        f"{len(CLIENT_PHONES)} clients enrolled, {len(CARERS)} carers, {consents} consents"
    )
    on_duty = await stack.read_models.on_duty(TEAM_ID, now)
    assert on_duty.primary is not None and on_duty.backup is not None
    primary = on_duty.primary
    report.say(
        f"Team {TEAM_ID}: on call now {primary.display_name} (primary), "
        f"{on_duty.backup.display_name} (backup)"
    )
    phones = SandboxPhones(s.twilio_api_base_url)
    try:
        caller = CLIENT_PHONES["c-03"]
        t0 = time.monotonic()
        status, twiml = await phones.place_call(caller, s.crisis_line_number)
        t_twiml = time.monotonic()
        report.timings_ms["ring_to_twiml"] = (t_twiml - t0) * 1000
        assert status == 200 and primary.phone in twiml, twiml
        report.say(
            f"[call]  client c-03 rang the crisis line; TwiML dials {primary.display_name}"
            f" ({report.timings_ms['ring_to_twiml']:.0f} ms)"
        )
        sms = await phones.wait_for_sms(primary.phone, timeout=20)
        t_sms = time.monotonic()
        report.timings_ms["ring_to_page"] = (t_sms - t0) * 1000
        report.say(
            f"[page]  SMS to {primary.display_name} after "
            f'{report.timings_ms["ring_to_page"]:.0f} ms: "{sms["body"]}"'
        )
        code = sms["body"].split()[2].rstrip(":")
        status, reply = await phones.send_sms(primary.phone, s.twilio_from_number, f"ACK {code}")
        assert status == 200, reply
        await wait_for_status(stack, code, "acknowledged")
        t_ack = time.monotonic()
        report.timings_ms["page_to_ack"] = (t_ack - t_sms) * 1000
        report.say(
            f"[ack]   {primary.display_name} replied ACK {code}; acknowledged "
            f"{(t_ack - t0):.1f} s after the ring"
        )
        outcome = "visited at home, safe, plan reviewed with carer"
        status, reply = await phones.send_sms(
            primary.phone, s.twilio_from_number, f"DONE {code} {outcome}"
        )
        assert status == 200, reply
        await wait_for_status(stack, code, "resolved")
        report.say(f"[done]  {code} resolved: {outcome}")
        row = await stack.read_models.dispatch_by_code(code)
        assert row is not None
        await stack.projector.wait_until_caught_up(timeout=15)
        timeline = await stack.read_models.archive(correlation_id=row.correlation_id)
        report.say("Timeline (event time, type, actor):")
        for event in timeline:
            report.say(f"  {event.occurred_at:%H:%M:%S.%f}  {event.type:<22} {event.actor}")
        await run_journey_part(stack, report, client_id="c-03", visitor=primary.staff_id,
                               visitor_name=primary.display_name)  # fmt: skip
        await run_risk_part(stack, report, phones)
        await escalation_act(stack, phones, report)
    finally:
        await phones.close()


DEMO_POLICY = EscalationPolicy(
    steps=(
        EscalationStep(targets=("primary",), ack_timeout_s=ESCALATION_TIMEOUT_S),
        EscalationStep(targets=("backup",), ack_timeout_s=ESCALATION_TIMEOUT_S),
        EscalationStep(targets=("team_lead",), ack_timeout_s=ESCALATION_TIMEOUT_S),
    ),
    rounds=1,
    exhausted_repeat_s=ESCALATION_TIMEOUT_S,
)


async def escalation_act(stack: Stack, phones: SandboxPhones, report: DemoReport) -> None:
    """Nobody answers the primary's page: the backup is paged when the step times out."""
    s, now = stack.settings, stack.clock.now()
    tightened = await load_team(stack.services.staff_roster, now, s.crisis_line_number, DEMO_POLICY)
    await _spooled(stack, tightened)
    on_duty = await stack.read_models.on_duty(TEAM_ID, now)
    assert on_duty.primary is not None and on_duty.backup is not None
    primary, backup = on_duty.primary, on_duty.backup
    report.say(f"Escalation: the team lead loads the rota file again with an escalation policy "
               f"giving each step {ESCALATION_TIMEOUT_S} s.")  # fmt: skip
    after = max((m["index"] for m in await phones.messages()), default=0)
    t0 = time.monotonic()
    await phones.place_call(CLIENT_PHONES["c-07"], s.crisis_line_number)
    sms = await phones.wait_for_sms(primary.phone, after=after, timeout=20)
    code = sms["body"].split()[2].rstrip(":")
    report.say(f"[page]  {code} to {primary.display_name}, who does not answer")
    page = await phones.wait_for_sms(backup.phone, after=after, timeout=ESCALATION_TIMEOUT_S + 20)
    t_backup = time.monotonic()
    report.timings_ms["timeout_to_escalation_page"] = (
        (t_backup - t0) - ESCALATION_TIMEOUT_S
    ) * 1000
    report.say(
        f"[esc]   no ACK after {ESCALATION_TIMEOUT_S} s: {backup.display_name} paged "
        f"{(t_backup - t0):.1f} s after the ring (deadline to page "
        f"{report.timings_ms['timeout_to_escalation_page']:.0f} ms)"
    )
    assert code in page["body"]
    await phones.send_sms(backup.phone, s.twilio_from_number, f"ACK {code}")
    await wait_for_status(stack, code, "acknowledged")
    report.say(f"[ack]   {backup.display_name} replied ACK {code}; escalation stops")
