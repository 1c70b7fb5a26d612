"""When the embedded broker is renewed: once a partition took enough records, and only in a
quiet moment (no dispatch open, nothing waiting to be published, nothing archived for a
while); the supervisor then runs the plan a dead broker gets on the live one
(docs/decisions/043)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from structlog.testing import capture_logs

from dispatch.health.report import Fullest
from dispatch.stack.renewal import Quiet, renewal_reason
from dispatch.stack.supervisor import ComponentStatus, Supervisor
from tests.e2e.helpers import until
from tests.unit.test_supervisor import Clock, Stack, supervisor

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
FULL = Fullest(topic="act.page-events", partition=1, records=1_200)
QUIET = Quiet(open_dispatches=0, unpublished=0, newest=NOW - timedelta(minutes=30))


def reason(fullest: Fullest | None = FULL, quiet: Quiet = QUIET) -> str | None:
    return renewal_reason(fullest, quiet, NOW, after_records=1_000, quiet_s=600)


def test_a_full_partition_in_a_quiet_moment_is_renewed_and_says_which() -> None:
    said = reason()
    assert said is not None and "act.page-events[1] took 1200 records" in said
    assert reason(quiet=Quiet(0, 0, None)) is not None  # nothing archived yet at all


def test_no_renewal_while_anything_could_wait_on_it() -> None:
    assert reason(quiet=Quiet(open_dispatches=1, unpublished=0, newest=QUIET.newest)) is None
    assert reason(quiet=Quiet(open_dispatches=0, unpublished=3, newest=QUIET.newest)) is None
    recent = Quiet(open_dispatches=0, unpublished=0, newest=NOW - timedelta(seconds=599))
    assert reason(quiet=recent) is None


def test_no_renewal_below_the_threshold_or_when_turned_off() -> None:
    assert reason(fullest=Fullest("act.page-events", 1, 999)) is None
    assert reason(fullest=None) is None
    assert renewal_reason(FULL, QUIET, NOW, after_records=0, quiet_s=600) is None


async def test_a_renewal_runs_the_broker_plan_on_the_live_broker_and_is_logged() -> None:
    stack, clock = Stack(), Clock()
    sup = supervisor(stack, clock)
    with capture_logs() as logs:
        assert sup.renew("broker", "renewed in a quiet moment: test")
        await sup.check()
    assert stack.steps[:4] == ["park clients", "restart broker", "restore archive",
                               "start projector"]  # fmt: skip
    assert [(e["event"], e["component"]) for e in logs] == [
        ("component_renewal_due", "broker"),
        ("component_restarted", "broker"),
        ("component_restarted", "worker-0"),
    ]
    status = sup.status().component("broker")
    assert status is not None and status.up and status.restarts == 1
    assert status.last_reason == "renewed in a quiet moment: test"


async def test_a_renewal_waits_for_a_recovery_under_way() -> None:
    """A worker whose restart failed waits for its next attempt: no renewal meanwhile."""
    stack, clock = Stack(), Clock()
    sup = supervisor(stack, clock)
    stack.workers[0].die()
    stack.workers[0].failures = 1
    with capture_logs():
        await sup.check()  # the attempt fails; the next one waits its backoff
        assert not sup.renew("broker", "renewed in a quiet moment: test")
        clock.t += 10
        await sup.check()  # the worker is back
    assert sup.renew("broker", "renewed in a quiet moment: test")


class AskedThrough:
    """A renewal whose first answers fail as when PostgreSQL or the broker is down."""

    every_s = 0.0

    def __init__(self, failures: int) -> None:
        self.failures, self.asked = failures, 0

    async def reason(self, now: datetime) -> str | None:
        self.asked += 1
        if self.asked <= self.failures:
            raise ConnectionRefusedError("PostgreSQL is down")
        return "renewed in a quiet moment: test"


async def test_a_renewal_not_readable_renews_nothing_and_is_asked_again() -> None:
    """While the fill or the quiet cannot be read, nothing is renewed (the broker keeps what
    it holds) and the run of failures is one warning; once they read, that is said once and
    the broker is renewed."""
    stack, clock = Stack(), Clock()
    sup = supervisor(stack, clock)
    renewal = AskedThrough(failures=3)
    with capture_logs() as logs:
        sup.start(renewal)  # type: ignore[arg-type]
        try:
            broker = await until(lambda: _renewed(sup), within_s=10, what="renewed")
        finally:
            await sup.stop()
    assert broker.restarts == 1 and renewal.asked >= 4
    events = [e["event"] for e in logs]
    assert events.count("broker_renewal_not_checked") == 1
    again = [e for e in logs if e["event"] == "broker_renewal_checked_again"]
    assert [e["failed_readings"] for e in again] == [3]
    assert stack.steps.index("park clients") < stack.steps.index("restart broker")


async def _renewed(sup: Supervisor) -> ComponentStatus | None:
    broker = sup.status().component("broker")
    return broker if broker is not None and broker.restarts else None
