"""Where a reader's new consumer group starts: at the offsets an earlier group committed.

The crisis contacts were read by faust's own group (the app id) until they got a reader of
their own (decision 052). A new group starts a partition it never committed at the topic's
start, which would decide every past call again; starting at its end would skip the calls
made while no worker ran. So before the reader joins its group, each partition its group
never committed is committed at the earlier group's offset. A partition neither group ever
committed starts at the topic's start, as faust's group did.

Two workers starting at once may both hand over: they commit the same offsets. A worker
that reads the group's offsets just before another one's first commit may set a partition
back to the earlier group's offset: those contacts are decided again, and their events,
whose ids come from the contact, are deduplicated downstream. Nothing is skipped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import CommitFailedError, for_code

log = structlog.get_logger(__name__)


def hand_over(
    bootstrap: str, topic: str, *, group: str, earlier: str, timeout_s: float = 10.0
) -> Callable[[], Awaitable[None]]:
    """A reader's `prepare`: `group` starts where `earlier` left `topic`, on each partition
    `group` never committed. A broker error is raised (the reader fails, and with it the
    worker, which is restarted): never guess where to start."""

    async def prepare() -> None:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000)
        )
        await admin.start()
        try:
            (described,) = await admin.describe_topics([topic])
            if described["error_code"]:  # its partitions unknown: not "none committed"
                raise for_code(described["error_code"])(f"{topic} could not be described")
            partitions = sorted(
                TopicPartition(topic, p["partition"]) for p in described["partitions"]
            )
            committed = await admin.list_consumer_group_offsets(earlier, partitions=partitions)
            theirs = {tp: meta.offset for tp, meta in committed.items() if meta.offset >= 0}
            if not theirs:
                return
            ours = await admin.list_consumer_group_offsets(group, partitions=sorted(theirs))
        finally:
            await admin.close()
        starts = {
            tp: offset for tp, offset in theirs.items() if tp not in ours or ours[tp].offset < 0
        }
        if starts:
            try:
                await commit_as(bootstrap, group, starts)
            except CommitFailedError as exc:  # the group has members: one of them handed over
                log.info("reader_group_live", group=group, error=repr(exc))
                return
            log.info(
                "reader_group_handed_over",
                group=group,
                earlier=earlier,
                offsets={f"{tp.topic}:{tp.partition}": o for tp, o in sorted(starts.items())},
            )

    return prepare


async def commit_as(bootstrap: str, group: str, offsets: dict[TopicPartition, int]) -> None:
    """Commit `offsets` for `group` without joining it (a consumer of assigned partitions)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        consumer.assign(sorted(offsets))
        await consumer.commit(offsets)
    finally:
        await consumer.stop()
