"""`dispatch replay --from-broker`: the read models rebuilt from the event topics of a real
(embedded) broker, read from offset 0, equal the live ones the projector built from the same
log, and equal the archive's rebuild."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
from click.testing import CliRunner, Result

from dispatch.bus import EventPublisher
from dispatch.cli import main
from dispatch.stack.broker import EmbeddedBroker
from dispatch.topics import event_topics
from projections.projector import Projector
from projections.replay import Replay, Swapped
from projections.replay_broker import BrokerReplay
from projections.replay_check import TableDiff, describe
from projections.replay_schema import READ_MODEL_TABLES
from tests.integration.replay_history import Shape, history

SHAPE = Shape(
    seed=20261129,
    teams=2,
    staff_per_team=4,
    clients_per_team=5,
    incidents=80,
    episodes=150,
    days=10,
    duplicates=0.0,
    partitions=2,
)
RETRIED = 40  # events published a second time, as a producer's retry does


async def invoke(args: list[str], env: dict[str, str]) -> Result:
    """The CLI in a thread: it runs an event loop of its own."""
    return await asyncio.to_thread(CliRunner().invoke, main, args, env=env)


def differences(result: list[TableDiff] | Swapped) -> list[str]:
    assert isinstance(result, list)
    assert len(result) == len(READ_MODEL_TABLES)
    return [line for d in result if not d.equal for line in describe(d)]


async def row_counts(pool: asyncpg.Pool) -> dict[str, int]:
    return {t: await pool.fetchval(f"SELECT count(*) FROM {t}") for t in READ_MODEL_TABLES}  # noqa: S608


async def test_the_broker_replay_equals_live_and_the_archive_rebuild(
    pg_pool: asyncpg.Pool, pg_url: str, tmp_path: Path
) -> None:
    """A generated history (two partitions per topic, some events published twice) projected
    live; --from-broker --check finds every read model equal, the CLI says so, and once the
    broker's rebuild is swapped in (projector running) the archive's rebuild equals it."""
    events = history(SHAPE)
    broker = EmbeddedBroker(tmp_path / "broker", partitions=2)
    await broker.start()
    try:
        publisher = EventPublisher(broker.bootstrap_servers)
        projector = Projector(pg_pool, broker.bootstrap_servers, event_topics())
        await projector.start()
        try:
            await publisher.publish(events)
            await publisher.publish(events[:RETRIED])
            await projector.wait_until_caught_up(timeout=60)
            live = await row_counts(pg_pool)
            assert live["dispatches"] > 0 and live["pages"] > 0 and live["clients"] > 0

            checked = BrokerReplay(pg_url, broker.bootstrap_servers, batch=500)
            assert differences(await checked.run(check=True)) == []
            assert checked.tally.duplicates == RETRIED
            assert checked.tally.applied + checked.tally.refused == len(events)

            env = {"DATABASE_URL": pg_url, "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers}
            cli = await invoke(["replay", "--from-broker", "--check"], env)
            assert cli.exit_code == 0, cli.output
            assert f"Equal: {len(READ_MODEL_TABLES)} read models" in cli.output

            swapped = await BrokerReplay(pg_url, broker.bootstrap_servers).run(check=False)
            assert isinstance(swapped, Swapped)
            assert await row_counts(pg_pool) == live
            assert differences(await Replay(pg_url).run(check=True)) == []
        finally:
            await projector.stop()
            await publisher.stop()
    finally:
        await broker.stop()


async def test_the_broker_replay_waits_for_the_projector_and_says_so(
    pg_pool: asyncpg.Pool, pg_url: str, tmp_path: Path
) -> None:
    """Events on the broker that the projector never archived: no check, no swap, a message
    naming the projector; the live tables are left as they were."""
    broker = EmbeddedBroker(tmp_path / "broker", partitions=1)
    await broker.start()
    try:
        publisher = EventPublisher(broker.bootstrap_servers)
        try:
            await publisher.publish(history(SHAPE)[:20])
        finally:
            await publisher.stop()
        env = {"DATABASE_URL": pg_url, "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers}
        args = ["replay", "--from-broker", "--archived-wait", "0.5"]
        cli = await invoke(args, env)
        assert cli.exit_code == 1, cli.output
        assert "the projector has archived 0 of the 20 events" in cli.output
        assert await pg_pool.fetchval("SELECT count(*) FROM dispatches") == 0
    finally:
        await broker.stop()
