"""Memory of one worker's state: N clients' risk state and escalation state, held the way
the worker's faust tables hold them (an in-memory store: a dict of key -> table value, and
faust's key -> partition dict beside it).

    .venv/bin/python -m bench.bench_memory [--quick] [--clients 100000]

Each measurement runs in a fresh Python process (so nothing else the benchmark did counts):
it imports what the worker imports, reads its RSS (psutil), builds the state and each
table's timer index (the first tick's scan, decision 055), collects garbage and reads the
RSS again, and the process's peak RSS (VmHWM). Each
client's risk state is folded by the real fold from an enrolment, a relapse plan, four
relapse signals and a face-to-face visit; each client also has one resolved crisis
dispatch in the escalation table (the default policy, two people paged, one reply
decided), which is more than most clients have. The escalation table keeps a resolved
dispatch as a tombstone (decision 030: no policy or deadline, the remembered reply
decisions kept), so that is what the headline row holds: per client, the risk state and
one dispatch tombstone, both as the compact bytes the worker writes. The other rows hold
the same clients the ways the worker held them before (JSON dicts, decision 022) or with a
resolved dispatch's full state. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.report import Figure, markdown

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TARGET_BYTES = 2048


def _risk_value(i: int, fmt: str) -> Any:
    from dispatch.clients.events import ClientEnrolled, ContactRecorded
    from dispatch.events import new_event
    from dispatch.risk.events import RelapsePlanRecorded, RelapseSignalObserved, WarningSign
    from dispatch.risk.fold import evolve, initial
    from dispatch.worker.risk_agent import dump_state

    c = f"c-{i:06d}"
    payloads: list[Any] = [
        ClientEnrolled(client_id=c, team_id=f"team-{i % 40:02d}", display_name=c, phone=None),
        RelapsePlanRecorded(
            client_id=c,
            warning_signs=(
                WarningSign(sign="sleep_loss", weight=1.5),
                WarningSign(sign="missed_meds", weight=2.0),
            ),
            agreed_by="s-1",
        ),
        *[
            RelapseSignalObserved(client_id=c, source="staff", sign=s, severity=1 + (i + k) % 4)
            for k, s in enumerate(("sleep_loss", "missed_meds", "withdrawal", "sleep_loss"))
        ],
        ContactRecorded(client_id=c, staff_id="s-1", kind="face_to_face"),
    ]
    state = initial(c)
    for k, p in enumerate(payloads):
        at = T0 + timedelta(hours=6 * k, minutes=i % 360)
        e = new_event(p, key=c, occurred_at=at, recorded_at=at, actor="bench")
        state = evolve(state, e, offset=i * 10 + k)
    if fmt == "json-dict":  # the table value before decision 022
        return state.model_dump(mode="json")
    return dump_state(state)


def _escalation_value(i: int, fmt: str) -> Any:
    from dispatch.escalation.policy import default_policy
    from dispatch.escalation.state import EscalationState
    from dispatch.replies.events import StaffReplyDecided

    dispatch_id = uuid.uuid5(uuid.NAMESPACE_URL, f"bench/{i}")
    state = EscalationState(
        dispatch_id=dispatch_id,
        correlation_id=uuid.uuid5(dispatch_id, "call"),  # the crisis call's
        team_id=f"team-{i % 40:02d}",
        short_code=f"K{i % 100000:05d}",
        risk_level="crisis",
        reason="crisis_call",
        caller_kind="client",
        first_paged="s-primary",
        paged=("s-primary", "s-backup"),
        status="resolved",
        acknowledged_by="s-primary",
        resolved_by="s-primary",
        outcome="seen at home, safe",
        policy=default_policy(),
        sequence=4,
        replies=(
            StaffReplyDecided(
                dispatch_id=dispatch_id,
                short_code=f"K{i % 100000:05d}",
                reply_event_id=uuid.uuid5(dispatch_id, "reply"),
                channel="sms",
                verb="resolve",
                staff_id="s-primary",
                accepted=True,
                outcome="seen at home, safe",
                holder="s-primary",
                dispatch_status="resolved",
                reply_to="+15550000001",  # an SMS reply is confirmed by SMS
            ),
        ),
    )
    from dispatch.escalation.state import retire
    from dispatch.worker.escalation_table import dump

    if fmt == "json-dict":  # how the escalation table held it before decision 030
        return state.model_dump(mode="json")
    if fmt == "bytes":  # a resolved dispatch's full state as compact bytes
        return dump(state)
    return dump(retire(state))  # "tombstone": what the worker holds (decision 030)


def measure(clients: int, risk_fmt: str, escalation_fmt: str) -> dict[str, float]:
    """In this process: RSS before and after holding `clients` clients' state."""
    import gc

    import psutil

    import dispatch.worker.app  # noqa: F401  (what the worker imports)

    _risk_value(0, risk_fmt), _escalation_value(0, "bytes")  # warm the imports
    gc.collect()
    process = psutil.Process()
    before = process.memory_info().rss
    risk: dict[str, Any] = {}
    escalation: dict[str, Any] = {}
    partitions: dict[str, int] = {}  # faust's Store._key_partition, one per table
    for i in range(clients):
        key = f"c-{i:06d}"
        risk[key] = _risk_value(i, risk_fmt)
        partitions[key] = i % 4
        if escalation_fmt != "none":
            dispatch_key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench/{i}"))
            escalation[dispatch_key] = _escalation_value(i, escalation_fmt)
            partitions[dispatch_key] = i % 4
    held = _timer_indexes(risk, escalation)  # built by each timer's first tick, then kept
    gc.collect()
    after = process.memory_info().rss
    peak = _peak_rss()
    assert len(held[0]) == clients, "every client is due some time"
    return {"before": before, "after": after, "peak": peak, "clients": clients}


def _timer_indexes(risk: dict[str, Any], escalation: dict[str, Any]) -> tuple[Any, Any]:
    """What each table's timer builds on its first tick and holds from then on (decision
    055): the risk timer decodes every state, one at a time, and keeps each client's next
    due time; the escalation timer decodes only the values that may be open."""
    from dispatch.risk.decide import timer_due_at
    from dispatch.worker.due_index import DueIndex
    from dispatch.worker.escalation_table import deadline_of, waiting_states
    from dispatch.worker.risk_agent import load_state

    risk_due: DueIndex[Any] = DueIndex(timer_due_at)
    risk_due.replace((key, load_state(raw, key)) for key, raw in risk.items())
    deadlines: DueIndex[Any] = DueIndex(deadline_of)
    deadlines.replace(waiting_states(escalation.items()))
    return risk_due, deadlines


def _peak_rss() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) * 1024
    return 0.0


def _in_fresh_process(clients: int, risk_fmt: str, escalation_fmt: str) -> dict[str, float]:
    code = (
        "import json, sys; from bench.bench_memory import measure; "
        f"print(json.dumps(measure({clients}, {risk_fmt!r}, {escalation_fmt!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=900
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run(clients: int, *, quick: bool = False) -> list[Figure]:
    rows = {}
    held = "risk + dispatch tombstone, compact bytes"  # what the worker holds (030)
    for label, risk_fmt, esc_fmt in (
        ("before (JSON dicts)", "json-dict", "json-dict"),
        *(
            []
            if quick
            else [
                ("risk compact, dispatch as JSON dict", "bytes", "json-dict"),
                ("risk + full dispatch, compact bytes", "bytes", "bytes"),
            ]
        ),
        (held, "bytes", "tombstone"),
        ("risk only, JSON dict", "json-dict", "none"),
        ("risk only, compact bytes", "bytes", "none"),
    ):
        r = _in_fresh_process(clients, risk_fmt, esc_fmt)
        per = (r["after"] - r["before"]) / clients
        rows[label] = (per, r)
        print(
            f"{label:<40} {clients:>7} clients: RSS {r['before'] / 2**20:6.1f} -> "
            f"{r['after'] / 2**20:6.1f} MiB, peak {r['peak'] / 2**20:6.1f} MiB, "
            f"{per:,.0f} bytes/client"
        )
    per, r = rows[held]
    note = f"{clients:,} clients, each: risk state + 1 resolved dispatch (tombstone), fresh process"
    return [
        Figure(
            "memory",
            "worker state per client (risk + resolved dispatch tombstone, compact bytes)",
            per,
            "bytes/client",
            "before (JSON dicts)",
            rows["before (JSON dicts)"][0],
            "< 2 KB/client",
            per < TARGET_BYTES,
            note,
        ),
        Figure(
            "memory",
            "risk state alone per client (compact bytes)",
            rows["risk only, compact bytes"][0],
            "bytes/client",
            "risk as a JSON dict",
            rows["risk only, JSON dict"][0],
            "< 2 KB/client",
            rows["risk only, compact bytes"][0] < TARGET_BYTES,
            f"{clients:,} clients, fresh process",
        ),
        Figure("memory", "peak RSS of the process holding it", r["peak"] / 2**20, "MiB", note=note),
    ]


async def figures(quick: bool) -> list[Figure]:
    """10,000 clients (quick, about 20 s: four fresh processes) or 100,000 (six)."""
    if quick:
        return await asyncio.to_thread(run, 10_000, quick=True)
    return await asyncio.to_thread(run, 100_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="10,000 clients")
    args = parser.parse_args()
    print(markdown(run(10_000, quick=True) if args.quick else run(args.clients)))


if __name__ == "__main__":
    main()
