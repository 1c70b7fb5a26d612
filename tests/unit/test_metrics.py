"""/metrics over fakes: the checks as gauges, latency histograms observed once each, the
supervisor's restarts when there is one."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from dispatch.health.ports import FirstPage, StepMove
from dispatch.health.report import ContactReading, Fullest, SpoolReading, WorkerBeat
from tests.unit.health_fakes import NOW, FakeHealth, Restarts, health_api


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def scrape(client: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    resp = await client.get("/metrics")
    assert resp.status == 200 and resp.content_type == "text/plain"
    return samples(await resp.text())


def later(seconds: float) -> Any:
    return NOW + timedelta(seconds=seconds)


async def test_the_health_checks_and_waits_are_gauges() -> None:
    """A dead worker, a stuck spool and a waiting contact show as gauges a scraper can alert on."""
    health = FakeHealth()
    r = health.readings
    r.beats = [WorkerBeat("host:1", NOW, NOW - timedelta(seconds=40), ("t:0",), 12)]
    r.spooled = SpoolReading(pending=3, oldest_unpublished_at=NOW - timedelta(seconds=31))
    r.contacts = ContactReading(unpaged=2, oldest_at=NOW - timedelta(seconds=45))
    async with health_api(health) as client:
        got = await scrape(client)
    assert got[("dispatch_health_ok", ())] == 0
    assert got[("dispatch_health_check_ok", (("check", "worker"),))] == 0
    assert got[("dispatch_health_check_ok", (("check", "postgres"),))] == 1
    assert got[("dispatch_spool_pending", ())] == 3
    assert got[("dispatch_spool_oldest_seconds", ())] == 31
    assert got[("dispatch_unpaged_contacts", ())] == 2
    assert got[("dispatch_oldest_unpaged_contact_seconds", ())] == 45
    assert got[("dispatch_worker_consuming_age_seconds", ())] == 40
    assert got[("dispatch_worker_lag_messages", (("worker", "host:1"),))] == 12
    assert not any(name == "dispatch_broker_partition_records" for name, _ in got)


async def test_the_fullest_embedded_broker_partition_is_a_gauge() -> None:
    """What the embedded broker's busiest partition took shows before /health turns red."""
    health = FakeHealth()
    health.broker.fullest = Fullest(topic="act.page-events", partition=3, records=1234)
    async with health_api(health) as client:
        got = await scrape(client)
    labels = (("partition", "3"), ("topic", "act.page-events"))
    assert got[("dispatch_broker_partition_records", labels)] == 1234
    assert got[("dispatch_health_ok", ())] == 1  # under the limit


async def test_page_latency_and_escalation_lag_are_observed_once_each() -> None:
    """A first page 7 s after the ring and a step moved 0.4 s late are counted once, however
    often /metrics is scraped; a re-drive by the auditor is counted."""
    health = FakeHealth()
    health.archive.pages = [FirstPage(uuid.uuid4(), "CrisisCallReceived", later(1), later(8))]
    health.archive.moves = [StepMove(uuid.uuid4(), later(60), later(60.4))]
    health.archive.redriven = [(uuid.uuid4(), later(120))]
    async with health_api(health) as client:
        await scrape(client)
        got = await scrape(client)
    ring = ("contact", "CrisisCallReceived")
    name = "dispatch_ring_to_first_page_seconds"
    assert got[(f"{name}_count", (ring,))] == 1
    assert got[(f"{name}_sum", (ring,))] == 7
    assert got[(f"{name}_bucket", (ring, ("le", "5.0")))] == 0
    assert got[(f"{name}_bucket", (ring, ("le", "10.0")))] == 1
    assert got[("dispatch_escalation_lag_seconds_count", ())] == 1
    assert abs(got[("dispatch_escalation_lag_seconds_sum", ())] - 0.4) < 1e-6
    assert got[("dispatch_escalations_redriven_total", ())] == 1


async def test_figures_from_before_the_process_started_are_not_observed() -> None:
    """A contact rung before this process started is history, not a latency of this process."""
    health = FakeHealth()
    health.archive.pages = [FirstPage(uuid.uuid4(), "CrisisTextReceived", later(-5), later(2))]
    async with health_api(health) as client:
        got = await scrape(client)
    texts = (("contact", "CrisisTextReceived"),)
    assert ("dispatch_ring_to_first_page_seconds_count", texts) not in got


async def test_restarts_show_only_when_a_supervisor_is_attached() -> None:
    """Without a supervisor there is no restarts metric; with one, its counts by part."""
    health = FakeHealth()
    async with health_api(health) as client:
        before = await scrape(client)
        health.metrics.restarts = Restarts({"worker": 2, "broker": 1})
        after = await scrape(client)
    assert not any(name.startswith("dispatch_restarts") for name, _ in before)
    assert after[("dispatch_restarts_total", (("part", "worker"),))] == 2
    assert after[("dispatch_restarts_total", (("part", "broker"),))] == 1
