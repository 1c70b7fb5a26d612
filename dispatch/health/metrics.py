"""/metrics: the health checks as gauges, plus latency histograms read from the archive.

Prometheus text format (prometheus-client) on a registry of this process's own. Each
scrape refreshes the gauges from the health monitor's report (cached like /health) and
observes, once each, the first pages, deadline moves and auditor re-drives that reached
the event archive since the last scrape (`ArchiveWatch`).
"""

from __future__ import annotations

from collections.abc import Iterator

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from dispatch.clock import Clock
from dispatch.health.archive_watch import ArchiveWatch, NewFigures
from dispatch.health.budget import Budget
from dispatch.health.monitor import HealthMonitor
from dispatch.health.ports import ArchiveObservations, RestartSource
from dispatch.health.report import BrokerReading, HealthReport, ProbeFailed, SpoolReading
from dispatch.health.streak import FailureStreak

log = structlog.get_logger(__name__)
PAGE_BUCKETS = (1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300, 600)
LAG_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)


class RestartCounts(Collector):
    """`dispatch_restarts_total{part}` from a supervisor, when the process has one."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        source = self._metrics.restarts
        if source is None:
            return
        family = CounterMetricFamily(
            "dispatch_restarts", "Parts the supervisor restarted", labels=["part"]
        )
        for part, count in sorted(source.restart_counts().items()):
            family.add_metric([part], count)
        yield family


class Metrics:
    """This process's metrics. `restarts` is set by whoever runs a supervisor."""

    def __init__(
        self,
        monitor: HealthMonitor,
        archive: ArchiveObservations,
        clock: Clock,
        *,
        lookback_s: float,
        timeout_s: float,
    ) -> None:
        self.restarts: RestartSource | None = None
        self._monitor = monitor
        self._budget = Budget(timeout_s)
        self._watch = ArchiveWatch(archive, clock, lookback_s=lookback_s)
        self._reads = FailureStreak(
            log, failed="metrics_archive_read_failed", recovered="metrics_archive_read_recovered"
        )
        self.registry = r = CollectorRegistry(auto_describe=True)
        self._ok = Gauge("dispatch_health_ok", "1 when /health is green", registry=r)
        self._check = Gauge(
            "dispatch_health_check_ok", "1 when the check is green", ["check"], registry=r
        )
        self._spool_pending = Gauge(
            "dispatch_spool_pending", "Accepted events not yet on the broker", registry=r
        )
        self._spool_age = Gauge(
            "dispatch_spool_oldest_seconds", "Age of the oldest unpublished event", registry=r
        )
        self._unpaged = Gauge(
            "dispatch_unpaged_contacts", "Crisis contacts with no page sent yet", registry=r
        )
        self._unpaged_age = Gauge(
            "dispatch_oldest_unpaged_contact_seconds",
            "How long the oldest crisis contact without a page has waited",
            registry=r,
        )
        self._consuming_age = Gauge(
            "dispatch_worker_consuming_age_seconds",
            "Seconds since a worker last reported consuming",
            registry=r,
        )
        self._workers = Gauge(
            "dispatch_workers_consuming", "Workers consuming within the limit", registry=r
        )
        self._lag = Gauge(
            "dispatch_worker_lag_messages", "Messages a worker is behind", ["worker"], registry=r
        )
        self._partition_records = Gauge(
            "dispatch_broker_partition_records",
            "Most records one partition of the embedded broker took since it was started or "
            "restored (absent against a real Kafka)",
            ["topic", "partition"],
            registry=r,
        )
        self._page_latency = Histogram(
            "dispatch_ring_to_first_page_seconds",
            "From a crisis contact (its occurred_at) to its dispatch's first PageSent",
            ["contact"],
            buckets=PAGE_BUCKETS,
            registry=r,
        )
        self._escalation_lag = Histogram(
            "dispatch_escalation_lag_seconds",
            "How long after its deadline a step moved",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self._redriven = Counter(
            "dispatch_escalations_redriven",
            "Late steps the escalation auditor re-drove",
            registry=r,
        )
        r.register(RestartCounts(self))

    def show(self, report: HealthReport) -> None:
        """Set the gauges from a health report."""
        self._ok.set(1 if report.ok else 0)
        for name, check in report.checks.items():
            self._check.labels(check=name).set(1 if check.ok else 0)
        spool = report.readings.spool
        if isinstance(spool, SpoolReading):
            self._spool_pending.set(spool.pending)
        self._spool_age.set(report.checks["spool"].seconds or 0)
        self._unpaged.set(report.checks["first_page"].count or 0)
        self._unpaged_age.set(report.checks["first_page"].seconds or 0)
        worker = report.checks["worker"]
        self._consuming_age.set(worker.seconds if worker.seconds is not None else float("inf"))
        self._workers.set(worker.count or 0)
        self._partition_records.clear()
        broker = report.readings.broker
        if isinstance(broker, BrokerReading) and (full := broker.fullest) is not None:
            labels = {"topic": full.topic, "partition": str(full.partition)}
            self._partition_records.labels(**labels).set(full.records)
        self._lag.clear()
        if not isinstance(report.readings.workers, ProbeFailed):
            for beat in report.readings.workers:
                if beat.lag is not None:
                    self._lag.labels(worker=beat.worker_id).set(beat.lag)

    def _observe(self, new: NewFigures) -> None:
        for page in new.first_pages:
            latency = (page.paged_at - page.contact_at).total_seconds()
            self._page_latency.labels(contact=page.contact_type).observe(max(0.0, latency))
        for move in new.step_moves:
            self._escalation_lag.observe(
                max(0.0, (move.moved_at - move.deadline_at).total_seconds())
            )
        self._redriven.inc(new.redrives)

    async def render(self) -> bytes:
        """Refresh, then every metric in the Prometheus text format."""
        self.show(await self._monitor.report())
        new = await self._budget.run(self._watch.poll())
        if isinstance(new, ProbeFailed):  # the archive is unreadable: the health gauges say why
            self._reads.failure(RuntimeError(new.error))
        else:
            self._reads.success()
            self._observe(new)
        return generate_latest(self.registry)

    async def close(self) -> None:
        await self._budget.close()
