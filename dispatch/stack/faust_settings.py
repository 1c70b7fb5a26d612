"""faust.App keyword arguments from our Settings (one place, no constants in handlers).

The group timeouts are lowered because tansu holds every JoinGroup for half the session
timeout (measured: 60 s -> 30 s joins with faust's defaults, 6 s -> 3 s, 2 s -> 1 s; the
rebalance timeout makes no difference). The fetch long-poll cap has no faust setting:
with the embedded broker, kafka_compat gives faust's consumer
Settings.consumer_fetch_max_wait_ms (against real Kafka faust keeps its 1500 ms, since
Kafka answers a fetch as soon as data arrives).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dispatch.settings import Settings
from dispatch.topics import topic_specs

EMBEDDED_REPLICATION = 1


def broker_url(bootstrap_servers: str) -> str:
    """kafka://host1:port1;host2:port2 (faust's form of a server list)."""
    hosts = [part.strip() for part in bootstrap_servers.split(",") if part.strip()]
    if not hosts:
        raise ValueError("no Kafka bootstrap servers configured")
    return "kafka://" + ";".join(hosts)


def faust_datadir(settings: Settings) -> Path:
    """An absolute FAUST_DATA_DIR wins; otherwise <state_dir>/faust."""
    if settings.faust_data_dir.is_absolute():
        return settings.faust_data_dir
    return Path(settings.state_dir) / "faust"


def internal_replication(settings: Settings) -> int:
    """Replication of faust's own topics (changelogs, leader): the event topics' on a cluster."""
    if settings.embedded_broker:
        return EMBEDDED_REPLICATION
    return min(spec.replication_factor for spec in topic_specs())


def faust_app_kwargs(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for faust.App(settings.faust_app_id, **kwargs)."""
    return {
        "broker": broker_url(settings.kafka_bootstrap_servers),
        "broker_session_timeout": settings.broker_session_timeout_s,
        "broker_rebalance_timeout": settings.broker_rebalance_timeout_s,
        "broker_heartbeat_interval": settings.broker_heartbeat_interval_s,
        # Durable appends; the idempotent/transactional producer fails on tansu.
        "producer_acks": -1,
        # Appends made within a few ms of each other go in one request (decision 036).
        "producer_linger": settings.worker_producer_linger_ms / 1000,
        "processing_guarantee": "at_least_once",
        # A new group reads the log from the start (and never trusts tansu's "latest").
        "consumer_auto_offset_reset": "earliest",
        "store": "memory://",
        "topic_partitions": settings.topic_partitions,
        "topic_replication_factor": internal_replication(settings),
        "datadir": str(faust_datadir(settings)),
        # faust's own web server is unused (the system has its own aiohttp app).
        "web_enabled": False,
        "autodiscover": False,
    }
