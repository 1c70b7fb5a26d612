"""Faults on a supervised stack (what `dispatch up` runs): a killed worker, broker or
PostgreSQL is restarted in order, and calls are still paged, once.

Each test runs a stack of its own (embedded broker, one partition, the Twilio sandbox, one
worker) and stops every process of it by PID afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import psutil
import pytest
from structlog.testing import capture_logs

from dispatch.settings import Settings
from dispatch.stack.restore import events_held
from dispatch.stack.runtime import Stack
from dispatch.stack.supervisor import ComponentStatus
from dispatch.topics import topic_specs
from integrations.twilio.sandbox import SandboxPhones
from tests.e2e import fault_team as team
from tests.e2e.helpers import last_index, next_page, reply_by_sms, sms_count, until

pytestmark = pytest.mark.fault

StartStack = Callable[..., Awaitable[Stack]]
PRIMARY_TIMEOUT_S = 10  # the first step's wait for an ACK: it falls after the kill


@pytest.fixture
async def start_stack(pg_server_url: str) -> AsyncIterator[StartStack]:
    """Start a supervised stack with the fault team (on a fresh database of the session's
    server, or on a durable embedded PostgreSQL of its own); everything is stopped afterwards."""
    stacks: list[Stack] = []
    cleanup: list[Callable[[], Awaitable[None]]] = []

    async def start(*, embedded_postgres: bool = False, **settings: Any) -> Stack:
        # Straight under /tmp: an embedded PostgreSQL's system user must reach it.
        state_dir = Path(tempfile.mkdtemp(prefix="dispatch-fault-"))
        state_dir.chmod(0o755)  # noqa: ASYNC240 - once, before anything runs
        cleanup.append(lambda: _remove(state_dir))
        database_url = "" if embedded_postgres else await _fresh_database(pg_server_url, cleanup)
        config = Settings(
            database_url=database_url,
            kafka_bootstrap_servers="",
            twilio_api_base_url="",
            state_dir=state_dir,
            topic_partitions=1,
            log_level="warning",
            **({"broker_renew_after_records": 0} | settings),  # renewed where a test asks
        )
        # A killed non-durable PostgreSQL loses its last commits: `dispatch up` is durable.
        stack = Stack(config, durable=embedded_postgres, supervise=True)
        stacks.append(stack)
        await stack.start()
        events = team.fault_team_events(stack.clock.now(), (PRIMARY_TIMEOUT_S, 600, 600))
        await stack.publisher.publish(events)
        await stack.projector.wait_until_caught_up(timeout=30)
        return stack

    yield start
    for stack in stacks:
        await stack.stop()
    for step in reversed(cleanup):
        await step()


async def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


async def _fresh_database(server_url: str, cleanup: list[Callable[[], Awaitable[None]]]) -> str:
    name = f"fault_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')

    async def drop() -> None:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    cleanup.append(drop)
    base, _, _ = server_url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture
async def phones_for() -> AsyncIterator[Callable[[Stack], SandboxPhones]]:
    opened: list[SandboxPhones] = []

    def open_for(stack: Stack) -> SandboxPhones:
        opened.append(SandboxPhones(stack.settings.twilio_api_base_url))
        return opened[-1]

    yield open_for
    for phones in opened:
        await phones.close()


async def _restarted(stack: Stack, name: str, times: int = 1) -> ComponentStatus | None:
    status = stack.supervisor.status()
    component = status.component(name)
    ready = component is not None and component.restarts >= times and not status.down
    return component if ready and status.restarting is None else None


async def _call(stack: Stack, phones: SandboxPhones, client: str) -> str:
    """A fault-team client calls; returns the code of the primary's page."""
    after = last_index(stack)
    status, twiml = await phones.place_call(team.CLIENTS[client], team.LINE)
    assert status == 200 and team.PHONES[team.PRIMARY] in twiml
    sms = await next_page(phones, team.PHONES[team.PRIMARY], after=after, timeout=30)
    code = team.code_in(sms["body"])
    assert code is not None
    return code


async def _kill(
    stack: Stack, name: str, pid: int, sig: signal.Signals = signal.SIGKILL
) -> tuple[ComponentStatus, list[tuple[str, str]]]:
    """SIGKILL (or `sig`) to a supervised child; once the supervisor has everything back, the
    child's new status and the deaths and restarts it logged, as (event, component)."""
    with capture_logs() as logs:
        os.kill(pid, sig)
        status = await until(lambda: _restarted(stack, name), within_s=90, what=f"{name} back")
    assert status.pid != pid
    lifecycle = [
        (e["event"], e["component"])
        for e in logs
        if e["event"] in ("component_died", "component_restarted")
    ]
    return status, lifecycle


async def test_a_killed_worker_is_restarted_and_the_next_call_is_paged(
    start_stack: StartStack, phones_for: Callable[[Stack], SandboxPhones]
) -> None:
    """SIGKILL to the worker: the supervisor starts a new one; a call made after is paged."""
    stack = await start_stack()
    phones = phones_for(stack)
    worker, lifecycle = await _kill(stack, "worker-0", stack.workers[0].pid)
    assert psutil.pid_exists(worker.pid) and worker.last_reason == "exited with SIGKILL"
    assert lifecycle == [("component_died", "worker-0"), ("component_restarted", "worker-0")]
    assert stack.child_pids()["worker-0"] == worker.pid
    code = await _call(stack, phones, "c-f1")
    assert await sms_count(stack, team.PHONES[team.PRIMARY], f" {code}:") == 1


async def test_a_killed_broker_comes_back_with_its_log_and_open_dispatches_escalate(
    start_stack: StartStack, phones_for: Callable[[Stack], SandboxPhones]
) -> None:
    """SIGKILL to the broker: it is restarted, its topics created and the archive restored; a
    dispatch paged before the crash escalates to the backup after it, nobody is paged twice,
    and a call made after it is paged."""
    stack = await start_stack()
    phones = phones_for(stack)
    after = last_index(stack)
    code = await _call(stack, phones, "c-f2")
    await stack.projector.wait_until_caught_up(timeout=20)
    assert stack.broker is not None
    _, lifecycle = await _kill(stack, "broker", stack.broker.pid)
    assert lifecycle == [
        ("component_died", "broker"),
        ("component_restarted", "broker"),
        ("component_restarted", "worker-0"),
    ]
    assert stack.last_restore is not None and stack.last_restore.restored > 0
    names = [spec.name for spec in topic_specs()]
    assert await events_held(stack.settings.kafka_bootstrap_servers, names) > 0
    escalated = await next_page(phones, team.PHONES[team.BACKUP], after=after, timeout=60)
    assert team.code_in(escalated["body"]) == code
    later = await _call(stack, phones, "c-f3")
    assert later != code
    for phone in (team.PHONES[team.PRIMARY], team.PHONES[team.BACKUP]):
        assert await sms_count(stack, phone, f" {code}:") == 1


async def _renewals(stack: Stack, more_than: int) -> ComponentStatus | None:
    """The broker's status once it was renewed more than `more_than` times."""
    broker = await _restarted(stack, "broker", more_than + 1)
    renewed = broker is not None and (broker.last_reason or "").startswith("renewed")
    return broker if renewed else None


async def test_the_broker_is_renewed_only_when_quiet_and_nobody_is_paged_twice(
    start_stack: StartStack, phones_for: Callable[[Stack], SandboxPhones]
) -> None:
    """Once an event topic's partition took its records, the embedded broker is renewed
    (restarted empty, the archive restored) in a quiet moment: right after the team's
    setup, and after a call is resolved, never while its dispatch is open (its escalation
    to the backup, 10 s later, finds the broker as the call did). After the renewal the
    resolved call is paged no more and a new call is paged once."""
    stack = await start_stack(broker_renew_after_records=1, broker_renew_quiet_s=3,
                              health_broker_history_every_s=0.5)  # fmt: skip
    phones = phones_for(stack)
    assert await until(lambda: _renewals(stack, 0), within_s=60, what="renewed after setup")
    after = last_index(stack)
    code = await _call(stack, phones, "c-f2")
    renewed = stack.supervisor.status().component("broker")
    assert renewed is not None and renewed.restarts == 1
    escalated = await next_page(phones, team.PHONES[team.BACKUP], after=after, timeout=60)
    assert team.code_in(escalated["body"]) == code
    still = stack.supervisor.status().component("broker")
    assert still is not None and still.restarts == 1 and still.pid == renewed.pid
    said = await reply_by_sms(stack, phones, team.PHONES[team.BACKUP], f"DONE {code} safe")
    assert "closed" in said
    broker = await until(lambda: _renewals(stack, 1), within_s=60, what="renewed once quiet")
    assert broker.pid != renewed.pid and "took" in (broker.last_reason or "")
    later = await _call(stack, phones, "c-f3")
    assert later != code
    for phone in (team.PHONES[team.PRIMARY], team.PHONES[team.BACKUP]):
        assert await sms_count(stack, phone, f" {code}:") == 1
    assert await sms_count(stack, team.PHONES[team.PRIMARY], f" {later}:") == 1


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
async def test_a_killed_postgres_is_restarted_and_the_next_call_is_paged(
    start_stack: StartStack, phones_for: Callable[[Stack], SandboxPhones], sig: signal.Signals
) -> None:
    """SIGKILL to the embedded PostgreSQL: it comes back on its port with its data, the
    workers are restarted after it, and a call made after is paged. SIGTERM (a smart
    shutdown, which would wait for every open session while refusing new ones) likewise."""
    stack = await start_stack(embedded_postgres=True)
    phones = phones_for(stack)
    assert stack.postgres is not None
    _, lifecycle = await _kill(stack, "postgres", stack.postgres.pid, sig)
    assert lifecycle == [
        ("component_died", "postgres"),
        ("component_restarted", "postgres"),
        ("component_restarted", "worker-0"),
    ]
    code = await _call(stack, phones, "c-f4")
    assert await sms_count(stack, team.PHONES[team.PRIMARY], f" {code}:") == 1
