"""What the probes saw, and the pure verdict: which checks are red and why.

`evaluate` takes the probes' readings (or why a probe could not read) and the limits, and
returns one report; no I/O, `now` passed in. `Transitions` says which checks just turned
red or cleared, so each is logged once, not on every probe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CHECKS = ("postgres", "broker", "worker", "spool", "first_page", "telephony")


@dataclass(frozen=True)
class ProbeFailed:
    """A probe could not read (refused, timed out, an error): the check it feeds is red."""

    error: str


@dataclass(frozen=True)
class Fullest:
    """The broker's partition that took the most records since the probe's baseline."""

    topic: str
    partition: int
    records: int


@dataclass(frozen=True)
class BrokerReading:
    topics_missing: tuple[str, ...] = ()
    fullest: Fullest | None = None  # read for the embedded broker only


@dataclass(frozen=True)
class WorkerBeat:
    worker_id: str
    beat_at: datetime
    consuming_at: datetime | None
    assignment: tuple[str, ...]
    lag: int | None
    telephony_error: str | None = None  # why it cannot reach the provider (None: it can)


@dataclass(frozen=True)
class SpoolReading:
    pending: int
    oldest_unpublished_at: datetime | None


@dataclass(frozen=True)
class ContactReading:
    """Accepted crisis contacts (calls, texts) with no page sent and nobody holding them."""

    unpaged: int
    oldest_at: datetime | None


@dataclass(frozen=True)
class Readings:
    postgres: ProbeFailed | None
    broker: BrokerReading | ProbeFailed
    workers: Sequence[WorkerBeat] | ProbeFailed
    spool: SpoolReading | ProbeFailed
    contacts: ContactReading | ProbeFailed


@dataclass(frozen=True)
class Limits:
    worker_stale_s: float
    spool_stale_s: float
    page_wait_s: float
    partition_records: int | None = None  # the embedded broker's limit (None: not judged)


class CheckResult(BaseModel):
    """One check: green or red, why when red, and the figure it judged (seconds, count)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ok: bool
    reason: str | None = Field(default=None, description="why it is red; absent when green")
    seconds: float | None = Field(
        default=None, description="the age the check judged (oldest wait, last consuming)"
    )
    count: int | None = Field(default=None, description="how many things it counted")


@dataclass(frozen=True)
class HealthReport:
    checks: Mapping[str, CheckResult]
    readings: Readings

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks.values())

    @property
    def status(self) -> Literal["ok", "failing"]:
        return "ok" if self.ok else "failing"

    @property
    def reasons(self) -> list[str]:
        return [f"{name}: {c.reason}" for name, c in self.checks.items() if not c.ok]


def _age(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else max(0.0, (now - then).total_seconds())


def _postgres(r: ProbeFailed | None) -> CheckResult:
    if isinstance(r, ProbeFailed):
        return CheckResult(ok=False, reason=f"PostgreSQL unreachable ({r.error})")
    return CheckResult(ok=True)


def _broker(r: BrokerReading | ProbeFailed, partition_records: int | None) -> CheckResult:
    if isinstance(r, ProbeFailed):
        return CheckResult(ok=False, reason=f"broker unreachable ({r.error})")
    if r.topics_missing:
        missing = ", ".join(r.topics_missing)
        return CheckResult(ok=False, reason=f"broker lacks topics {missing}")
    full = r.fullest
    if partition_records is not None and full is not None and full.records >= partition_records:
        reason = (
            f"embedded broker partition {full.topic}[{full.partition}] took {full.records} "
            f"records since the broker was started or restored (limit {partition_records}): "
            "its fetches slow sharply past about 2,500 batches; restart the stack in a quiet "
            "hour or use a real Kafka"
        )
        return CheckResult(ok=False, reason=reason, count=full.records)
    return CheckResult(ok=True, count=full.records if full else None)


def _worker(r: Sequence[WorkerBeat] | ProbeFailed, now: datetime, limit: float) -> CheckResult:
    if isinstance(r, ProbeFailed):
        return CheckResult(ok=False, reason=f"cannot read worker heartbeats ({r.error})")
    consuming = [b.consuming_at for b in r if b.consuming_at is not None]
    age = _age(now, max(consuming)) if consuming else None
    count = sum(1 for at in consuming if (now - at).total_seconds() <= limit)
    if age is None:
        return CheckResult(ok=False, reason="no worker has reported consuming", count=0)
    if age > limit:
        return CheckResult(
            ok=False, reason=f"no worker consuming for {age:.0f} s", seconds=age, count=0
        )
    return CheckResult(ok=True, seconds=age, count=count)


def _spool(r: SpoolReading | ProbeFailed, now: datetime, limit: float) -> CheckResult:
    if isinstance(r, ProbeFailed):
        return CheckResult(ok=False, reason=f"cannot read the ingress spool ({r.error})")
    age = _age(now, r.oldest_unpublished_at)
    if age is not None and age > limit:
        reason = (
            f"ingress spool not draining: oldest event waited {age:.0f} s ({r.pending} pending)"
        )
        return CheckResult(ok=False, reason=reason, seconds=age, count=r.pending)
    return CheckResult(ok=True, seconds=age or 0.0, count=r.pending)


def _first_page(r: ContactReading | ProbeFailed, now: datetime, limit: float) -> CheckResult:
    if isinstance(r, ProbeFailed):
        return CheckResult(ok=False, reason=f"cannot read crisis contacts ({r.error})")
    age = _age(now, r.oldest_at)
    if age is not None and age > limit:
        reason = f"a crisis contact has waited {age:.0f} s for its first page ({r.unpaged} waiting)"
        return CheckResult(ok=False, reason=reason, seconds=age, count=r.unpaged)
    return CheckResult(ok=True, seconds=age or 0.0, count=r.unpaged)


def _telephony(r: Sequence[WorkerBeat] | ProbeFailed, now: datetime, limit: float) -> CheckResult:
    """Red when a worker that beat within `limit` cannot reach the telephony provider: the
    pages of its partitions would not go out."""
    if isinstance(r, ProbeFailed):
        return CheckResult(ok=False, reason=f"cannot read worker heartbeats ({r.error})")
    failing = [b for b in r if b.telephony_error and (now - b.beat_at).total_seconds() <= limit]
    if failing:
        first = failing[0]
        reason = (
            f"worker {first.worker_id} cannot reach the telephony provider: {first.telephony_error}"
        )
        if len(failing) > 1:
            reason += f" (and {len(failing) - 1} more workers)"
        return CheckResult(ok=False, reason=reason, count=len(failing))
    return CheckResult(ok=True, count=0)


def evaluate(readings: Readings, limits: Limits, now: datetime) -> HealthReport:
    """Every check's verdict from what the probes read."""
    checks = {
        "postgres": _postgres(readings.postgres),
        "broker": _broker(readings.broker, limits.partition_records),
        "worker": _worker(readings.workers, now, limits.worker_stale_s),
        "spool": _spool(readings.spool, now, limits.spool_stale_s),
        "first_page": _first_page(readings.contacts, now, limits.page_wait_s),
        "telephony": _telephony(readings.workers, now, limits.worker_stale_s),
    }
    return HealthReport(checks=checks, readings=readings)


class Transitions:
    """Remembers which checks were red, to report each change once."""

    def __init__(self) -> None:
        self._red: set[str] = set()

    def update(self, report: HealthReport) -> tuple[list[str], list[str]]:
        """(checks that just turned red, checks that just cleared)."""
        red = {name for name, c in report.checks.items() if not c.ok}
        turned, cleared = sorted(red - self._red), sorted(self._red - red)
        self._red = red
        return turned, cleared
