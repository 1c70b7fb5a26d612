"""Which topics the broker holds: the relay publishes only into topics that exist.

A Kafka-protocol broker may create a topic the moment a producer names it (the embedded
broker does, with its default partitions). Rows published into such a topic, after a broker
restart and before the topics were created again, are not where the consumers look. So the
relay asks the broker for its whole topic list (a metadata request for all topics never
creates one) for each batch, while it reads the batch's rows, and publishes them only when
the answer holds their topics with the expected partitions; else it keeps them.
"""

from __future__ import annotations

from collections.abc import Collection

import structlog
from aiokafka.admin import AIOKafkaAdminClient

log = structlog.get_logger(__name__)


class TopicsMissingError(RuntimeError):
    """A target topic is missing, or has other partitions than expected: keep the rows."""

    transient = True

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(", ".join(f"{t}: {why}" for t, why in sorted(problems.items())))
        self.problems = problems


class BrokerTopics:
    """Checks target topics on the broker; one admin connection, opened on first use and
    again after a failure."""

    def __init__(self, bootstrap_servers: str, *, partitions: int | None) -> None:
        self._bootstrap = bootstrap_servers
        self._partitions = partitions
        self._seen: dict[str, int] = {}  # partitions of each topic when first found
        self._admin: AIOKafkaAdminClient | None = None

    async def check(self, topics: Collection[str]) -> None:
        """Return when every topic exists with the expected partitions; raise
        TopicsMissingError (or the broker's error) otherwise."""
        self.verify(await self.describe(), topics)

    async def describe(self) -> dict[str, int]:
        """The broker's topics and their partition counts, as one metadata request finds
        them (raises what the broker raises)."""
        try:
            described = await (await self._client()).describe_topics()
        except BaseException:
            await self.close()  # a broken connection is opened afresh next time
            raise
        return {t["topic"]: len(t["partitions"]) for t in described if t["error_code"] == 0}

    def verify(self, found: dict[str, int], topics: Collection[str]) -> None:
        """Raise TopicsMissingError unless every topic is in `found` (from `describe`) with
        the expected partitions."""
        problems: dict[str, str] = {}
        for topic in topics:
            expected = self._partitions or self._seen.get(topic)
            if topic not in found:
                problems[topic] = "missing"
            elif expected is not None and found[topic] != expected:
                problems[topic] = f"{found[topic]} partitions, expected {expected}"
        if problems:
            raise TopicsMissingError(problems)
        for topic in topics:
            self._seen.setdefault(topic, found[topic])

    async def _client(self) -> AIOKafkaAdminClient:
        if self._admin is None:
            admin = AIOKafkaAdminClient(
                bootstrap_servers=self._bootstrap, client_id="spool-topic-check"
            )
            try:
                await admin.start()
            except BaseException:
                await admin.close()
                raise
            self._admin = admin
        return self._admin

    async def close(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            try:
                await admin.close()
            except Exception as exc:  # closing a broken connection may fail; it is gone
                log.debug("topic_check_close_failed", error=repr(exc))
