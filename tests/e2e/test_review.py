"""The golden incident on the real stack, reviewed: a crisis call, an SMS page nobody
answers, an escalation to the backup, ACK, DONE and a visit; its timeline order and figures
are asserted exactly (computed from the archived events' own times), as is what the system
believed before and after the escalation, and the audit of the review itself."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from click.testing import CliRunner

from dispatch.cli import main
from dispatch.clients.events import ContactRecorded
from dispatch.escalation.events import EscalationPolicySet
from dispatch.escalation.policy import EscalationPolicy, EscalationStep
from dispatch.events import new_event
from dispatch.stack.runtime import Stack
from integrations.twilio.sandbox import SandboxPhones
from projections.models import ArchivedEvent
from tests.e2e.helpers import code_of, last_index, next_page, reply_by_sms, until
from tests.e2e.team_seed import TeamSeed

TEAM, LINE, CLIENT = "act-review", "+15005550710", "c-review1"
PRIMARY, BACKUP = "s-review-primary", "s-review-backup"
PHONES = {PRIMARY: "+15550930001", BACKUP: "+15550930002", CLIENT: "+15550930101"}
POLICY = EscalationPolicy(
    steps=(
        EscalationStep(targets=("primary",), ack_timeout_s=3),
        EscalationStep(targets=("backup",), ack_timeout_s=120),
    ),
    rounds=1,
    exhausted_repeat_s=120,
)
TIMELINE = [
    "CrisisCallReceived", "DispatchOpened", "EscalationPlanFrozen", "PageRequested",
    "PageSent", "PageDelivered", "EscalationDeadlineReached", "DispatchEscalated",
    "PageRequested", "PageSent", "PageDelivered", "StaffReplyReceived", "DispatchAcknowledged",
    "StaffReplyDecided", "StaffReplyReceived", "DispatchResolved", "StaffReplyDecided",
    "FollowUpOpened",
]  # fmt: skip

LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[")  # a console log line


async def _seed(stack: Stack) -> None:
    seed = TeamSeed(stack.clock.now(), TEAM)
    seed.team(name="ACT Review", fallback_number="+15005550719", crisis_line_number=LINE)
    for staff_id, role in ((PRIMARY, "nurse"), (BACKUP, "social_worker")):
        seed.staff(staff_id, phone=PHONES[staff_id], role=role, gender="unspecified",  # type: ignore[arg-type]
                   display_name=staff_id)  # fmt: skip
    seed.shift(PRIMARY, "primary")
    seed.shift(BACKUP, "backup")
    seed.emit(EscalationPolicySet(team_id=TEAM, policy=POLICY), TEAM)
    seed.client(CLIENT, phone=PHONES[CLIENT])
    await stack.publisher.publish(seed.events)
    await stack.projector.wait_until_caught_up(timeout=30)


async def _review(stack: Stack, *args: str) -> Any:
    """`dispatch review ... --format json` against the stack, parsed."""
    env = {
        "DATABASE_URL": stack.settings.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": stack.settings.kafka_bootstrap_servers,
    }
    result = await asyncio.to_thread(
        CliRunner().invoke, main, ["review", *args, "--format", "json"], env=env
    )
    assert result.exit_code == 0, result.output
    # The stack runs in this process: a line its projector logs while the command runs
    # can land in the captured output. The command's own output is the JSON document.
    document = [line for line in result.stdout.splitlines() if not LOG_LINE.match(line)]
    return json.loads("\n".join(document))


async def _incident_events(stack: Stack, code: str) -> list[ArchivedEvent]:
    row = await stack.read_models.dispatch_by_code(code, team_id=TEAM)
    assert row is not None
    await stack.projector.wait_until_caught_up(timeout=20)
    by_key = await stack.read_models.archive(key=str(row.dispatch_id))
    return [*await stack.read_models.archive(correlation_id=row.correlation_id),
            *(e for e in by_key if e.correlation_id == e.event_id)]  # fmt: skip


async def _archived(stack: Stack, code: str, event_type: str, count: int) -> list[ArchivedEvent]:
    async def found() -> list[ArchivedEvent] | None:
        events = [e for e in await _incident_events(stack, code) if e.type == event_type]
        return events if len(events) >= count else None

    result: list[ArchivedEvent] = await until(found, what=f"{count} {event_type}")
    return result


def _one(events: list[ArchivedEvent], event_type: str) -> ArchivedEvent:
    [event] = [e for e in events if e.type == event_type]
    return event


def _s(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()


async def test_the_golden_incident_reviewed(stack: Stack, phones: SandboxPhones) -> None:
    """Ring, SMS page, no answer, escalation to the backup, ACK, DONE, a visit: the review
    lists every event in order and gives each figure from the events' own times; as-of shows
    the open dispatch on step 0 before the deadline and on step 1 after; reading the review
    is itself recorded and shows in the client's review."""
    await _seed(stack)
    after = last_index(stack)
    status, twiml = await phones.place_call(PHONES[CLIENT], LINE)
    assert status == 200 and PHONES[PRIMARY] in twiml
    code = code_of((await next_page(phones, PHONES[PRIMARY], after=after))["body"])
    page = await next_page(phones, PHONES[BACKUP], after=after, timeout=30)
    assert code_of(page["body"]) == code
    await _archived(stack, code, "PageDelivered", 2)  # the backup's phone has it: then ACK
    assert "is yours" in await reply_by_sms(stack, phones, PHONES[BACKUP], f"ACK {code}")
    await _archived(stack, code, "DispatchAcknowledged", 1)
    assert "closed" in await reply_by_sms(
        stack, phones, PHONES[BACKUP], f"DONE {code} visited, safe"
    )
    await _archived(stack, code, "StaffReplyDecided", 2)
    await _archived(stack, code, "FollowUpOpened", 1)  # a resolved crisis call's follow-up
    visit = new_event(ContactRecorded(client_id=CLIENT, staff_id=BACKUP, kind="face_to_face"),
                      key=CLIENT, occurred_at=stack.clock.now(), recorded_at=stack.clock.now(),
                      actor=BACKUP)  # fmt: skip
    await stack.publisher.publish([visit])
    await stack.projector.wait_until_caught_up(timeout=20)

    events = await _incident_events(stack, code)
    review = await _review(stack, "incident", code, "--by", "s-review-mgr")
    assert [e["type"] for e in review["timeline"]] == TIMELINE
    ring = _one(events, "CrisisCallReceived").occurred_at
    sent = min(e.occurred_at for e in events if e.type == "PageSent")
    delivered = min(e.occurred_at for e in events if e.type == "PageDelivered")
    ack = _one(events, "DispatchAcknowledged").occurred_at
    figures = {f["name"]: f["seconds"] for f in review["figures"]}
    assert figures == {
        "to_twiml": None,
        "to_first_page_sent": _s(ring, sent),
        "to_first_page_delivered": _s(ring, delivered),
        "to_acknowledgement": _s(ring, ack),
        "mtta": _s(_one(events, "DispatchOpened").recorded_at, ack),
        "to_first_face_to_face": _s(ring, visit.occurred_at),
        "to_resolution": _s(ring, _one(events, "DispatchResolved").occurred_at),
    }
    assert [(p["staff_id"], p["channel"], p["step"], p["outcome"]) for p in review["pages"]] == [
        (PRIMARY, "sms", 0, "delivered"), (BACKUP, "sms", 1, "delivered"),
    ]  # fmt: skip
    assert (review["steps_used"], review["pages_per_channel"], review["failures"]) == (
        2, {"sms": 2}, [],
    )  # fmt: skip
    assert [(e["reason"], e["staff_ids"]) for e in review["escalations"]] == [("timeout", [BACKUP])]
    assert (review["status"], review["outcome"]) == ("resolved", "visited, safe")

    escalated = _one(events, "DispatchEscalated")
    deadline = _one(events, "EscalationDeadlineReached").occurred_at
    before = await _review(stack, "as-of", (deadline - timedelta(milliseconds=1)).isoformat(),
                           "--team", TEAM)  # fmt: skip
    after_esc = await _review(stack, "as-of", escalated.recorded_at.isoformat(), "--team", TEAM)
    [d0], [d1] = before["open_dispatches"], after_esc["open_dispatches"]
    assert (
        d0["short_code"],
        d0["step"],
        d0["paged"],
        d0["policy"]["steps"][0]["ack_timeout_s"],
    ) == (code, 0, [PRIMARY], 3)
    assert (d1["step"], d1["sequence"], d1["paged"]) == (1, 1, [PRIMARY, BACKUP])

    team = await _review(stack, "team", "--team", TEAM, "--from",
                         (ring - timedelta(minutes=1)).isoformat())  # fmt: skip
    assert (team["incidents"], team["time_to_engage"]["p50_s"]) == (1, _s(ring, ack))

    async def read_is_recorded() -> Any:
        history = await _review(stack, "client", CLIENT)
        reads = [e for e in history["entries"] if e["category"] == "records read"]
        return history if any(f"review:incident:{code}" in e["summary"] for e in reads) else None

    history = await until(read_is_recorded, what="the review's own read in the client's review")
    assert {"call", "contact", "dispatch", "risk", "records read"} <= set(history["counts"])


async def test_team_meetings_count_in_the_fidelity_figures(stack: Stack) -> None:
    """The team lead records today's meeting through the API (a second report is a no-op,
    another team's attendee is refused); `dispatch huddle --held` records it for another
    team; each team's H3 counts its own meeting day."""
    headers = {"Authorization": "Bearer north-lead-token"}
    url = f"{stack.settings.public_base_url}/api/team/meetings"
    async with aiohttp.ClientSession() as http:
        answers = []
        for body in ({"attendees": ["s-nurse"]}, {"attendees": ["s-nurse"]},
                     {"attendees": [PRIMARY]}):  # fmt: skip
            async with http.post(url, json=body, headers=headers) as resp:
                answers.append((resp.status, await resp.json()))
    (s1, first), (s2, again), (s3, refused) = answers
    assert (s1, first["duplicate"], s2, again["duplicate"]) == (202, False, 202, True)
    assert (s3, refused["field"]) == (422, "attendees.0")
    env = {
        "DATABASE_URL": stack.settings.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": stack.settings.kafka_bootstrap_servers,
    }
    held = await asyncio.to_thread(
        CliRunner().invoke, main, ["huddle", "--team", TEAM, "--held", "--attendee", BACKUP],
        env=env,
    )  # fmt: skip
    assert held.exit_code == 0 and "recorded the meeting of" in held.output, held.output

    async def one_day(team: str) -> Any:
        fidelity = await _review(stack, "fidelity", "--team", team)
        h3 = next(i for i in fidelity["items"] if i["code"] == "H3")
        return h3 if h3["note"].startswith("1 days") else None

    for team in ("act-north", TEAM):
        assert (await until(lambda t=team: one_day(t), what=f"{team} meeting"))["figure"] == 0.25
