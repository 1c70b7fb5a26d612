"""Crisis contacts have a reader of their own in the worker (dispatch/worker/crisis_reader.py,
decision 052): a call is paged through it, and the worker's heartbeat, which operators and
the scale-out checks read, names the partitions of act.client-events it reads them from."""

from __future__ import annotations

import socket

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from dispatch.demo.seed import CLIENT_PHONES
from dispatch.stack.runtime import Stack
from dispatch.topics import CLIENT_EVENTS, DISPATCH_EVENTS, PAGE_EVENTS
from dispatch.worker.crisis_reader import GROUP
from integrations.twilio.sandbox import SandboxPhones
from tests.e2e.helpers import last_index, next_page, on_duty_primary, until


async def committed_for_crisis_contacts(stack: Stack) -> dict[int, int]:
    partitions = [TopicPartition(CLIENT_EVENTS, p) for p in range(stack.settings.topic_partitions)]
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        group = f"{stack.settings.faust_app_id}-{GROUP}"
        offsets = await admin.list_consumer_group_offsets(group, partitions=partitions)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}


async def test_a_call_is_paged_through_the_reader_and_the_heartbeat_names_its_partitions(
    stack: Stack, phones: SandboxPhones
) -> None:
    primary = await on_duty_primary(stack)
    after = last_index(stack)
    await phones.place_call(CLIENT_PHONES["c-03"], stack.settings.crisis_line_number)
    await next_page(phones, primary.phone, after=after, timeout=30)

    async def committed_past_the_call() -> bool:  # within a second, or once it is idle
        ends = await stack.pool.fetch(  # each partition's end, past its newest archived call
            """SELECT partition, max("offset") + 1 AS end_ FROM event_archive
                WHERE topic = $1 AND type = 'CrisisCallReceived' GROUP BY partition""",
            CLIENT_EVENTS,
        )
        done = await committed_for_crisis_contacts(stack)
        return bool(ends) and all(done.get(r["partition"], -1) >= r["end_"] for r in ends)

    await until(committed_past_the_call, within_s=20, what="the reader's commit past the call")

    ids = [f"{socket.gethostname()}:{w.pid}" for w in stack.workers if w.pid is not None]
    every = stack.settings.topic_partitions
    wanted = {
        f"{t}:{p}" for t in (CLIENT_EVENTS, DISPATCH_EVENTS, PAGE_EVENTS) for p in range(every)
    }

    async def named() -> bool:
        rows = await stack.pool.fetch(
            "SELECT assignment FROM worker_heartbeats WHERE worker_id = ANY($1::text[])", ids
        )
        owned = [tp for r in rows for tp in r["assignment"]]
        return len(owned) == len(set(owned)) and set(owned) == wanted

    await until(named, within_s=20, what="the heartbeat naming every partition once")
