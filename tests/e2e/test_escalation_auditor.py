"""The escalation auditor on a real stack whose escalation timer is made too slow to act: the
auditor finds the late step, re-drives it, and the backup is paged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp

from dispatch.stack.runtime import Stack
from dispatch.stack.worker_process import WorkerProcess
from integrations.twilio.sandbox import SandboxPhones
from tests.e2e import south_team as south
from tests.e2e.helpers import code_of, last_index, next_page, until
from tests.e2e.own_stack import own_stack


async def redriven_total(stack: Stack) -> float:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{stack.settings.public_base_url}/metrics") as resp,
    ):
        text = await resp.text()
    line = next(x for x in text.splitlines() if x.startswith("dispatch_escalations_redriven_total"))
    return float(line.split()[1])


def worker_log(worker: WorkerProcess) -> list[dict[str, Any]]:
    lines = worker.log_path.read_text().splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


async def test_a_step_the_timer_left_late_is_redriven_and_reported(
    pg_server_url: str, tmp_path: Path
) -> None:
    """With the escalation timer ticking once a minute, the primary's 2 s step is still moved:
    the auditor re-drives it about a second late, the backup is paged, the step moves once,
    and the late step is logged as an error and counted in /metrics."""
    async with own_stack(pg_server_url, tmp_path / "stack", with_worker=False) as stack:
        slow_timer = {
            **stack.worker_env(),
            "ESCALATION_TICK_S": "60",  # the escalation timer: no tick within this test
            "ESCALATION_AUDIT_TICK_S": "0.5",
            "ESCALATION_AUDIT_GRACE_S": "1",
        }
        worker = WorkerProcess(slow_timer, stack.state_dir, name="worker-slow-timer")
        worker.start()
        stack.workers.append(worker)  # stopped by PID with the stack
        await worker.wait_ready()
        phones = SandboxPhones(stack.settings.twilio_api_base_url)
        try:
            after = last_index(stack)
            status, _ = await phones.place_call(south.CLIENTS["c-s1"], south.LINE)
            assert status == 200
            first = await next_page(phones, south.PHONES[south.PRIMARY], after=after)
            code = code_of(first["body"])
            moved = await next_page(phones, south.PHONES[south.BACKUP], after=after, timeout=30)
            assert code_of(moved["body"]) == code
        finally:
            await phones.close()

        row = await stack.read_models.dispatch_by_code(code)
        assert row is not None
        await stack.projector.wait_until_caught_up(timeout=20)
        events = await stack.read_models.archive(correlation_id=row.correlation_id)
        deadlines = [e for e in events if e.type == "EscalationDeadlineReached"]
        assert deadlines and {e.actor for e in deadlines} == {"escalation-auditor"}
        moves = [e.payload for e in events if e.type == "DispatchEscalated"]
        first_moves = [m for m in moves if m["sequence"] == 1]
        assert len(first_moves) == 1 and first_moves[0]["reason"] == "timeout"

        late = await until(
            lambda: _late_steps(worker, str(row.dispatch_id)), what="the auditor's error"
        )
        assert late[0]["level"] == "error" and late[0]["sequence"] == 0
        assert late[0]["action"] == "redriven" and late[0]["late_s"] >= 1
        assert await until(lambda: redriven_total(stack), what="the re-drive in /metrics") >= 1


async def _late_steps(worker: WorkerProcess, dispatch_id: str) -> list[dict[str, Any]]:
    return [
        e
        for e in worker_log(worker)
        if e.get("event") == "escalation_step_late" and e.get("dispatch_id") == dispatch_id
    ]
