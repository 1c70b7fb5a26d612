"""Truthful health, metrics and the dead-man's switch (docs/decisions/014).

`health_services` builds them for one process from the settings and the ports it reads
through; the composition root passes the PostgreSQL implementations.
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.clock import Clock
from dispatch.health.broker_probe import KafkaMetadataProbe
from dispatch.health.heartbeat import DeadMansSwitch
from dispatch.health.metrics import Metrics
from dispatch.health.monitor import HealthMonitor
from dispatch.health.ports import ArchiveObservations, HealthReadings
from dispatch.health.report import Limits
from dispatch.settings import Settings
from dispatch.topics import topic_specs


@dataclass
class HealthServices:
    monitor: HealthMonitor
    metrics: Metrics
    heartbeat: DeadMansSwitch | None  # None without HEARTBEAT_URL
    broker_probe: KafkaMetadataProbe | None = None

    async def close(self) -> None:
        if self.heartbeat is not None:
            await self.heartbeat.stop()
        await self.metrics.close()
        await self.monitor.close()
        if self.broker_probe is not None:
            await self.broker_probe.close()


def health_services(
    settings: Settings, clock: Clock, readings: HealthReadings, archive: ArchiveObservations
) -> HealthServices:
    s = settings
    embedded = s.embedded_broker  # only tansu's memory storage slows as partitions fill
    probe = KafkaMetadataProbe(
        s.kafka_bootstrap_servers,
        [spec.name for spec in topic_specs()],
        history_every_s=s.health_broker_history_every_s if embedded else None,
    )
    monitor = HealthMonitor(
        readings,
        probe,
        clock,
        Limits(
            worker_stale_s=s.health_worker_stale_s,
            spool_stale_s=s.health_spool_stale_s,
            page_wait_s=s.health_page_wait_s,
            partition_records=s.health_broker_partition_records if embedded else None,
        ),
        lookback_s=s.health_contact_lookback_s,
        timeout_s=s.health_probe_timeout_s,
        cache_s=s.health_cache_s,
    )
    metrics = Metrics(
        monitor,
        archive,
        clock,
        lookback_s=s.health_contact_lookback_s,
        timeout_s=s.health_probe_timeout_s,
    )
    heartbeat = (
        DeadMansSwitch(monitor, clock, url=s.heartbeat_url, interval_s=s.heartbeat_interval_s)
        if s.heartbeat_url
        else None
    )
    return HealthServices(monitor=monitor, metrics=metrics, heartbeat=heartbeat, broker_probe=probe)
