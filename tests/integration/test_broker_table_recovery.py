"""faust table recovery from the changelog is exact on the session broker.

A worker (tests/integration/faust_table_app.py, configured by faust_app_kwargs) counts
2003 events per key into a table and is stopped by PID; a new worker restores the table
from the changelog alone (memory store). With the embedded-broker fix it restores
exactly; the control shows that unpatched faust on tansu restores less.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from dispatch.stack.broker import create_topics
from dispatch.stack.end_offsets import true_end_offsets
from dispatch.topics import TopicSpec
from tests.fixtures.broker import KafkaUnderTest

REPO = Path(__file__).resolve().parents[2]
PARTITIONS = 4
FETCH_WAIT_MS = 30  # not the default (200): the worker must take it from the settings
EXPECTED = {"k0": 1001, "k1": 601, "k2": 301, "k3": 97, "k4": 3}  # 2003 events
Status = dict[str, Any]


class TableWorker:
    """One faust_table_app worker process, stopped by its PID."""

    def __init__(self, env: dict[str, str], state_dir: Path, name: str) -> None:
        self.status_path = state_dir / f"{name}.json"
        self.log_path = state_dir / f"{name}.log"
        self._env = {**env, "TABLE_APP_STATUS": str(self.status_path)}
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> TableWorker:
        with self.log_path.open("ab") as out:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "tests.integration.faust_table_app"],
                cwd=REPO,
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return self

    def status(self) -> Status:
        try:
            data: Status = json.loads(self.status_path.read_text())
        except (OSError, ValueError):
            return {}
        return data

    async def wait_for(self, what: str, ok: Callable[[Status], bool], timeout_s: float) -> Status:
        deadline = time.monotonic() + timeout_s
        while not ok(status := self.status()):
            assert self._proc is not None
            if self._proc.poll() is not None:
                pytest.fail(
                    f"worker exited ({self._proc.returncode}) before {what}:\n{self.tail()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} after {timeout_s}s; status {status}:\n{self.tail()}")
            await asyncio.sleep(0.05)
        return status

    async def wait_restored(self) -> Status:
        """Recovery done and the consumer running (its fetch wait is known)."""
        return await self.wait_for(
            "restored table",
            lambda s: "recovered" in s and s.get("fetch_max_wait_ms") is not None,
            timeout_s=60,
        )

    async def stop(self, timeout_s: float = 20.0) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)  # faust stops gracefully: commits, flushes
        deadline = time.monotonic() + timeout_s
        while proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
        proc.wait()

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@dataclass(frozen=True)
class Counted:
    """A changelog holding EXPECTED, written by a worker that has stopped."""

    env: dict[str, str]
    state_dir: Path
    changelog: str
    first_status: Status


async def produce_shuffled(bootstrap: str, topic: str, counts: dict[str, int]) -> None:
    keys = [key for key, n in counts.items() for _ in range(n)]
    random.Random(7).shuffle(keys)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    await producer.start()
    try:
        for key in keys:
            await producer.send(topic, key=key.encode(), value=b"1")
        await producer.flush()
    finally:
        await producer.stop()


@pytest.fixture(scope="module")
async def counted(
    kafka_broker: KafkaUnderTest, tmp_path_factory: pytest.TempPathFactory
) -> Counted:
    state_dir = tmp_path_factory.mktemp("table-recovery")
    run = uuid.uuid4().hex[:8]
    app_id, source = f"table-recovery-{run}", f"test.table-recovery-{run}"
    await create_topics(
        kafka_broker.bootstrap,
        [TopicSpec(source, "key", (), PARTITIONS, 1)],
        replication_factor=1 if kafka_broker.embedded else None,
        with_config=False,
    )
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_broker.bootstrap,
        "EMBEDDED_BROKER": "1" if kafka_broker.embedded else "0",
        "STATE_DIR": str(state_dir),
        "FAUST_APP_ID": app_id,
        "TOPIC_PARTITIONS": str(PARTITIONS),
        "AGENTS_FETCH_MAX_WAIT_MS": str(FETCH_WAIT_MS),
        "TABLE_APP_TOPIC": source,
    }
    worker = TableWorker(env, state_dir, "counter").start()
    try:
        first = await worker.wait_restored()
        await produce_shuffled(kafka_broker.bootstrap, source, EXPECTED)
        await worker.wait_for("all counted", lambda s: s.get("counts") == EXPECTED, 60)
    finally:
        await worker.stop()
    return Counted(env, state_dir, f"{app_id}-counts-changelog", first)


async def test_restored_table_equals_the_counts(counted: Counted) -> None:
    """A new worker restores exactly the produced counts from the changelog."""
    worker = TableWorker(counted.env, counted.state_dir, "restored").start()
    try:
        status = await worker.wait_restored()
        await worker.wait_for("settled counts", lambda s: "counts" in s, 10)
    finally:
        await worker.stop()
    print(f"restored in {status['recovered_at'] - status['started_at']:.2f}s from start")
    assert status["recovered"] == EXPECTED
    assert worker.status()["counts"] == EXPECTED  # nothing counted twice after restart


async def test_worker_consumer_uses_the_fetch_wait_setting(
    counted: Counted, kafka_broker: KafkaUnderTest
) -> None:
    """With the embedded broker, faust's consumer long-polls for the wait configured for
    the worker's agents (AGENTS_FETCH_MAX_WAIT_MS, decision 062)."""
    if not kafka_broker.embedded:
        pytest.skip("the cap is an embedded-broker fix; real Kafka keeps faust's 1500 ms")
    assert counted.first_status["fetch_max_wait_ms"] == FETCH_WAIT_MS


async def test_unpatched_faust_restores_less_on_tansu(
    counted: Counted, kafka_broker: KafkaUnderTest
) -> None:
    """Control: without the fix, recovery stops at tansu's short "latest" offsets."""
    if not kafka_broker.embedded:
        pytest.skip("the control shows a tansu bug")
    tps = [TopicPartition(counted.changelog, p) for p in range(PARTITIONS)]
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_broker.bootstrap)
    await consumer.start()
    try:
        reported = await consumer.end_offsets(tps)
    finally:
        await consumer.stop()
    true_ends = await true_end_offsets(kafka_broker.bootstrap, tps)
    assert sum(true_ends.values()) == sum(EXPECTED.values())  # one changelog record per event
    assert reported != true_ends, "precondition: a changelog tail in a multi-record batch"

    unpatched = {**counted.env, "TABLE_APP_COMPAT": "0"}
    worker = TableWorker(unpatched, counted.state_dir, "unpatched").start()
    try:
        status = await worker.wait_restored()
    finally:
        await worker.stop()
    recovered = status["recovered"]
    assert recovered != EXPECTED
    assert all(recovered.get(key, 0) <= n for key, n in EXPECTED.items())
    assert status["fetch_max_wait_ms"] == 1500  # faust's hard-coded long-poll
