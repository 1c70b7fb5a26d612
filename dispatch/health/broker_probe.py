"""Is the broker there, and does it have the event topics? A TCP connect, then one metadata
request on a connection of its own, closed at once.

The TCP connect comes first so that a broker that is down costs one refused connection
and no client library log line on every probe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka.client import AIOKafkaClient

from dispatch.health.report import BrokerReading


def bootstrap_hosts(servers: str) -> list[tuple[str, int]]:
    """'host:port,host:port' as (host, port) pairs (port 9092 when none is given)."""
    hosts: list[tuple[str, int]] = []
    for item in filter(None, (part.strip() for part in servers.split(","))):
        host, _, port = item.rpartition(":") if ":" in item else (item, "", "9092")
        hosts.append((host.strip("[]"), int(port)))
    return hosts


class KafkaMetadataProbe:
    def __init__(self, bootstrap_servers: str, topics: Sequence[str]) -> None:
        self._servers = bootstrap_servers
        self._topics = tuple(topics)

    async def _reachable(self) -> None:
        errors: list[str] = []
        for host, port in bootstrap_hosts(self._servers):
            try:
                _, writer = await asyncio.open_connection(host, port)
            except OSError as exc:
                errors.append(f"{host}:{port} {exc.strerror or exc}")
                continue
            writer.close()
            return
        raise ConnectionError("; ".join(errors) or "no bootstrap servers configured")

    async def read(self) -> BrokerReading:
        await self._reachable()
        client = AIOKafkaClient(bootstrap_servers=self._servers, request_timeout_ms=5_000)
        try:
            await client.bootstrap()
            present = set((await client.fetch_all_metadata()).topics())
        finally:
            await client.close()
        return BrokerReading(topics_missing=tuple(t for t in self._topics if t not in present))
