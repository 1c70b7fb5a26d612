"""/health over fakes: each red reason, answers within the budget when parts hang, each change
logged once, and the OpenAPI document showing the 503."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta

import pytest
from structlog.testing import capture_logs

from dispatch.health.report import (
    BrokerReading,
    CheckResult,
    ContactReading,
    Fullest,
    Readings,
    SpoolReading,
    WorkerBeat,
    evaluate,
)
from tests.unit.health_fakes import LIMITS, NOW, FakeHealth, health_api


async def test_a_healthy_system_answers_200_with_every_check_green() -> None:
    """All parts answering, a worker consuming, nothing waiting: 200 and six green checks."""
    health = FakeHealth()
    async with health_api(health) as client:
        resp = await client.get("/health")
        body = await resp.json()
    assert resp.status == 200 and resp.content_type == "application/json"
    assert body["status"] == "ok" and "reasons" not in body
    assert set(body["checks"]) == {
        "postgres", "broker", "worker", "spool", "first_page", "telephony"
    }  # fmt: skip
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.parametrize(
    ("breakage", "check", "reason"),
    [
        ("postgres_down", "postgres", "PostgreSQL unreachable (ConnectionRefusedError"),
        ("broker_down", "broker", "broker unreachable (ConnectionError: refused)"),
        ("topics_gone", "broker", "broker lacks topics act.dispatch-events"),
        ("worker_dead", "worker", "no worker consuming for 40 s"),
        ("no_worker_ever", "worker", "no worker has reported consuming"),
        (
            "spool_stuck",
            "spool",
            "ingress spool not draining: oldest event waited 31 s (3 pending)",
        ),
        ("contact_unpaged", "first_page", "a crisis contact has waited 45 s for its first page"),
        (
            "credentials_refused",
            "telephony",
            "worker host:1 cannot reach the telephony provider: twilio reach: HTTP 401",
        ),
    ],
)
async def test_each_fault_answers_503_with_its_reason(
    breakage: str, check: str, reason: str
) -> None:
    """Each fault turns its own check red; the answer is 503 JSON naming it in `reasons`."""
    health = FakeHealth()
    r, ago = health.readings, lambda s: NOW - timedelta(seconds=s)
    if breakage == "postgres_down":
        r.error = ConnectionRefusedError("connection refused")
    elif breakage == "broker_down":
        health.broker.error = ConnectionError("refused")
    elif breakage == "topics_gone":
        health.broker.missing = ("act.dispatch-events",)
    elif breakage == "worker_dead":
        r.beats = [WorkerBeat("host:1", ago(40), ago(40), ("act.client-events:0",), 0)]
    elif breakage == "no_worker_ever":
        r.beats = [WorkerBeat("host:1", NOW, None, (), None)]
    elif breakage == "credentials_refused":
        refused = "twilio reach: HTTP 401 (code 20003): Authenticate"
        r.beats = [WorkerBeat("host:1", NOW, NOW, ("act.client-events:0",), 0, refused)]
    elif breakage == "spool_stuck":
        r.spooled = SpoolReading(pending=3, oldest_unpublished_at=ago(31))
    else:
        r.contacts = ContactReading(unpaged=1, oldest_at=ago(45))
    async with health_api(health) as client:
        resp = await client.get("/health")
        body = await resp.json()
    assert resp.status == 503 and body["status"] == "failing"
    assert body["checks"][check]["ok"] is False
    assert any(line.startswith(f"{check}: {reason}") for line in body["reasons"]), body["reasons"]


async def test_a_contact_younger_than_the_limit_is_not_a_fault() -> None:
    """A crisis contact 10 s old without its page yet is normal: green, its age still shown."""
    health = FakeHealth()
    health.readings.contacts = ContactReading(unpaged=1, oldest_at=NOW - timedelta(seconds=10))
    report = await health.monitor.report()
    assert report.ok and report.checks["first_page"].seconds == 10


async def test_a_telephony_error_of_a_worker_gone_quiet_is_not_a_fault() -> None:
    """Only workers that beat within the worker limit count: the error of one that stopped
    (replaced since by another) does not keep /health red."""
    health = FakeHealth()
    gone = WorkerBeat("host:1", NOW - timedelta(seconds=40), None, (), None, "twilio: refused")
    health.readings.beats = [*health.readings.beats, gone]
    report = await health.monitor.report()
    assert report.ok and report.checks["telephony"].count == 0


async def test_health_answers_within_its_budget_when_postgres_and_the_broker_hang() -> None:
    """Parts that accept and never answer: /health still answers 503 within about a second."""
    health = FakeHealth(timeout_s=0.5)
    health.readings.hang = True
    health.broker.hang = True
    async with health_api(health) as client:
        started = time.monotonic()
        resp = await client.get("/health")
        elapsed = time.monotonic() - started
        body = await resp.json()
    assert resp.status == 503 and elapsed < 1.0
    assert {"postgres", "broker", "worker", "spool", "first_page", "telephony"} == {
        name for name, check in body["checks"].items() if not check["ok"]
    }
    assert "postgres: PostgreSQL unreachable (no answer within 0.5 s)" in body["reasons"]


async def test_each_change_is_logged_once_not_on_every_probe() -> None:
    """Probed five times while the worker is dead, one error; once it is back, one notice."""
    health = FakeHealth()
    dead = [WorkerBeat("host:1", NOW, NOW - timedelta(minutes=5), (), None)]
    alive = health.readings.beats
    with capture_logs() as logs:
        health.readings.beats = dead
        for _ in range(5):
            assert not (await health.monitor.report()).ok
        health.readings.beats = alive
        for _ in range(3):
            assert (await health.monitor.report()).ok
    changes = [e for e in logs if e["event"].startswith("health_check_")]
    assert changes == [
        {
            "event": "health_check_failing",
            "check": "worker",
            "reason": "no worker consuming for 300 s",
            "log_level": "error",
        },
        {"event": "health_check_cleared", "check": "worker", "log_level": "warning"},
    ]


async def test_probes_run_at_most_once_per_cache_period() -> None:
    """Ten probes within the cache period read the parts once; without a cache, every time."""
    cached, uncached = FakeHealth(cache_s=60), FakeHealth(cache_s=0)
    for _ in range(10):
        await cached.monitor.report()
        await uncached.monitor.report()
    assert cached.broker.calls == 1 and cached.readings.calls == 4  # ping, beats, spool, contacts
    assert uncached.broker.calls == 10


async def test_the_openapi_document_shows_health_and_its_503() -> None:
    """/health is documented with its 200 model and the 503 model carrying the reasons."""
    async with health_api(FakeHealth()) as client:
        document = await (await client.get("/api/openapi.json")).json()
    responses = document["paths"]["/health"]["get"]["responses"]
    schemas = document["components"]["schemas"]
    assert responses["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Health")
    failing = responses["503"]["content"]["application/json"]["schema"]["$ref"]
    assert failing.endswith("/HealthFailing")
    assert set(schemas["HealthFailing"]["required"]) == {"status", "reasons", "checks"}
    assert "/metrics" in document["paths"]


def _broker_check(fullest: Fullest | None, limit: int | None) -> CheckResult:
    readings = Readings(
        postgres=None,
        broker=BrokerReading(fullest=fullest),
        workers=[],
        spool=SpoolReading(pending=0, oldest_unpublished_at=None),
        contacts=ContactReading(unpaged=0, oldest_at=None),
    )
    return evaluate(readings, replace(LIMITS, partition_records=limit), NOW).checks["broker"]


def test_an_embedded_broker_partition_that_took_too_many_records_is_red() -> None:
    """Past the limit the broker check is red, naming the partition and what to do; under
    it, green with the count; against a real Kafka (no limit) it is never judged."""
    full = Fullest(topic="act.page-events", partition=2, records=2000)

    red = _broker_check(full, 2000)
    assert red.ok is False and red.count == 2000
    assert red.reason is not None
    assert "act.page-events[2] took 2000 records" in red.reason
    assert "restart the stack in a quiet hour" in red.reason

    assert _broker_check(replace(full, records=1999), 2000) == CheckResult(ok=True, count=1999)
    assert _broker_check(full, None).ok is True
    assert _broker_check(None, 2000).ok is True
