"""Two of everything on one PostgreSQL and one broker of 4 partitions: two full web edges
(each with its own spool relay and projector) and two workers sharing the partitions.
Signed calls spread over both edges are each dispatched and paged once, and each client's
calls reach the log in the order they were made.

A stack of its own (4 partitions), stopped by PID afterwards.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from dispatch.events import derived_id
from dispatch.settings import Settings
from dispatch.soak.scale import SecondEdge, spread_calls, until_workers_consuming
from dispatch.soak.session import prepare
from dispatch.stack.runtime import Stack
from tests.e2e.own_embedded_stack import state_dir

pytestmark = [pytest.mark.stack, pytest.mark.fault]
CALLS = 60


@pytest.fixture
async def two_of_everything() -> AsyncIterator[tuple[Stack, SecondEdge]]:
    with state_dir() as path:
        settings = Settings(
            database_url="",
            kafka_bootstrap_servers="",
            twilio_api_base_url="",
            state_dir=path,
            topic_partitions=4,
            log_level="warning",
        )
        stack = Stack(settings, durable=False)
        edge = SecondEdge(stack)
        try:
            await stack.start()
            await stack.start_worker()
            await prepare(stack)
            await edge.start()
            yield stack, edge
        finally:
            await edge.stop()
            await stack.stop()


async def test_calls_over_two_edges_and_two_workers_are_paged_once_in_order(
    two_of_everything: tuple[Stack, SecondEdge],
) -> None:
    stack, edge = two_of_everything
    assert os.getpid() not in {w.pid for w in stack.workers}
    await until_workers_consuming(stack)
    assert len(stack.workers) == 2
    run = await spread_calls(
        stack, [stack.settings.public_base_url, edge.url], calls=CALLS, rate=10, tag="e2"
    )
    f = run.figures
    try:
        assert f.dialled == CALLS, f.otherwise
        assert sorted(run.by_edge.values()) == [CALLS // 2, CALLS // 2]
        assert (f.dispatches_opened, f.first_paged) == (CALLS, CALLS), f.losses[:5]
        assert f.doubled == 0, f.duplicates
        assert run.reordered == ()
    except AssertionError:
        lost = {loss.code for loss in f.losses}
        calls = [c.call_sid for c in run.calls if c.code in lost]
        incidents = [str(derived_id("twilio-call", sid)) for sid in calls]
        _print_worker_logs(stack, incidents)
        raise


def _print_worker_logs(stack: Stack, incidents: list[str]) -> None:
    """What the workers said that bears on a failure: their warnings and errors, and every
    line of a lost call's incident (its correlation id; the logs go with the stack's state
    directory when the test ends)."""
    for worker in stack.workers:
        lines = worker.log_path.read_text(errors="replace").splitlines()
        told = [
            line
            for line in lines
            if '"level": "warning"' in line
            or '"level": "error"' in line
            or any(incident in line for incident in incidents)
        ]
        print(f"--- {worker.log_path.name}: {len(lines)} lines, {len(told)} shown", *told[-60:],
              sep="\n")  # fmt: skip
