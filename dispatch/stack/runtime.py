"""The whole system on one machine: the embedded parts where no real ones are configured.

Used by `dispatch up`, `dispatch demo` and the end-to-end tests. Start order follows the
embedded broker's limits: database and broker first, topics created explicitly, the
archive restored into an empty broker, then the consumers (projector, worker), then the
producers (spool relay, web edge). Stop is the reverse, each child by its PID.

With supervise=True (`dispatch up`) a Supervisor restarts the embedded PostgreSQL, the
embedded broker and the workers when they die (dispatch/stack/supervisor.py);
`stack.supervisor.status()` says what is up and what was restarted, and
`stack.child_pids()` (also written to STATE_DIR/children.json) names every child's PID:
the supervised ones, the fallback TwiML server and the Twilio sandbox's process.
"""

from __future__ import annotations

import asyncio
import gc
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import structlog
from aiohttp import web

from dispatch.bootstrap import SERVING_POOL_FLOOR, bootstrap
from dispatch.clock import Clock, SystemClock
from dispatch.fallback.process import start_fallback_server
from dispatch.settings import Settings
from dispatch.stack.broker import free_port
from dispatch.stack.renewal import BrokerRenewal
from dispatch.stack.restore import RestoreReport, restore_if_empty
from dispatch.stack.server_child import ServerChild
from dispatch.stack.state_dir import (
    StateDirLock,
    forget_children,
    record_children,
    stop_leftovers,
)
from dispatch.stack.supervisor import Supervisor
from dispatch.stack.worker_process import WorkerProcess
from dispatch.topics import event_topics
from dispatch.web.app import make_web_app
from projections.projector import Projector

if TYPE_CHECKING:
    from dispatch.fallback.process import FallbackServer
    from dispatch.stack.broker import EmbeddedBroker
    from dispatch.stack.postgres import EmbeddedPostgres
    from dispatch.stack.recovery import Child

log = structlog.get_logger(__name__)

PARKED_WORKER_STOP_S = 5.0  # a worker whose broker died may hang in its shutdown
RELAY_WARM_TIMEOUT_S = 10.0  # as long as the publisher's own requests may take


def read_model_projector(pool: asyncpg.Pool, settings: Settings) -> Projector:
    """The projector of every event topic into the read models, as settings tune it."""
    return Projector(
        pool,
        settings.kafka_bootstrap_servers,
        event_topics(),
        fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
        pace_s=settings.projector_pace_ms / 1000,
        session_timeout_s=settings.broker_session_timeout_s,
        heartbeat_interval_s=settings.broker_heartbeat_interval_s,
    )


@dataclass
class Stack:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    durable: bool = True
    supervise: bool = False
    # The embedded Twilio sandbox in a process of its own (`dispatch up`, the benchmarks:
    # decision 056), or in this one, where tests and the demo read its phones directly.
    sandbox_process: bool = False

    def __post_init__(self) -> None:
        self.state_dir = Path(self.settings.state_dir).resolve()
        self._stoppers: list[object] = []
        self.sandbox: object | None = None
        self.fallback: FallbackServer | None = None  # the static TwiML server, once started
        self.sandbox_child: ServerChild | None = None  # when it runs in a process of its own
        self.postgres: EmbeddedPostgres | None = None
        self.broker: EmbeddedBroker | None = None
        self.workers: list[WorkerProcess] = []
        self.last_restore: RestoreReport | None = None
        self.supervisor = Supervisor(self)
        self._lock = StateDirLock(self.state_dir)

    async def start(self, *, with_worker: bool = True) -> None:
        try:
            await self._start(with_worker)
        except BaseException:
            await self.stop()
            raise

    async def _start(self, with_worker: bool) -> None:
        from dispatch.stack.broker import EmbeddedBroker
        from dispatch.stack.postgres import EmbeddedPostgres

        s = self.settings
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._lock.acquire()
        await stop_leftovers(self.state_dir)
        updates: dict[str, object] = {"state_dir": self.state_dir}
        if not s.database_url:
            self.postgres = EmbeddedPostgres(self.state_dir / "postgres", durable=self.durable)
            self._stoppers.append(self.postgres)
            await self.postgres.start()
            updates["database_url"] = self.postgres.url
        if not s.kafka_bootstrap_servers:
            self.broker = EmbeddedBroker(self.state_dir / "broker", partitions=s.topic_partitions)
            self._stoppers.append(self.broker)
            await self.broker.start()
            updates["kafka_bootstrap_servers"] = self.broker.bootstrap_servers
            updates["embedded_broker"] = True
        port = s.web_port or free_port(s.web_host)
        public = s.public_base_url or f"http://{s.web_host}:{port}"
        updates.update(web_port=port, public_base_url=public)
        # The lines' Fallback URL: a static document served by a process of its own.
        self.fallback = await start_fallback_server(s, self.state_dir)
        self._stoppers.append(self.fallback)
        if not s.twilio_api_base_url and self.sandbox_process:
            from integrations.twilio.sandbox_server import start_sandbox_process

            child, updates["twilio_api_base_url"] = await start_sandbox_process(
                s,
                public_url=public,
                fallback_url=self.fallback.url,
                log_path=self.state_dir / "twilio-sandbox.log",
            )
            self._stoppers.append(child)
            self.sandbox_child = child
        elif not s.twilio_api_base_url:
            from integrations.twilio.sandbox import TwilioSandbox

            sandbox = TwilioSandbox(
                s.twilio_account_sid,
                s.twilio_auth_token.get_secret_value(),
                voice_webhook_url=f"{public}/twilio/voice",
                sms_webhook_url=f"{public}/twilio/sms",
            )
            self._stoppers.append(sandbox)
            updates["twilio_api_base_url"] = await sandbox.start()
            sandbox.set_fallbacks(self.fallback.url)
            self.sandbox = sandbox
        self.settings = s = s.model_copy(update=updates)

        self.services = await bootstrap(s, clock=self.clock, pool_floor=SERVING_POOL_FLOOR)
        self.pool: asyncpg.Pool = self.services.pool
        self.read_models = self.services.read_models
        self.publisher = self.services.publisher
        self.spool = self.services.spool
        await self.restore_broker()
        await self.warm_relay()  # connected now: the first call's relay does not wait
        await self.start_projector()
        if with_worker:
            await self.start_worker()
        self.record_children()
        self.resume_producers()
        self._runner = web.AppRunner(make_web_app(self.services), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, s.web_host, s.web_port).start()
        if self.supervise:
            self.services.health.metrics.restarts = self.supervisor
            self.supervisor.start(self.broker_renewal())
        gc.collect()
        gc.freeze()  # the start's objects live as long as the stack: out of the GC's scans
        log.info(
            "stack_started",
            web=s.public_base_url,
            kafka=s.kafka_bootstrap_servers,
            twilio=s.twilio_api_base_url,
            embedded_broker=s.embedded_broker,
            supervised=self.supervise,
        )

    # --- the parts the supervisor restarts ---------------------------------------------
    def supervised(self) -> list[tuple[str, Child]]:
        """The children this stack started, in the order they must be recovered."""
        children: list[tuple[str, Child]] = []
        if self.postgres is not None:
            children.append(("postgres", self.postgres))
        if self.broker is not None:
            children.append(("broker", self.broker))
        children += [(worker.name, worker) for worker in self.workers]
        return children

    def child_pids(self) -> dict[str, int]:
        """Every child's PID by name: the supervised ones ("postgres", "broker", "worker-0",
        ...) and the two servers ("fallback-twiml", and "twilio-sandbox" when the sandbox is
        a process of its own), for whoever injects faults or watches. The same is in
        STATE_DIR/children.json, from which the next stack on the directory stops what a
        stack killed outright left running."""
        pids: dict[str, int] = {}
        for name, child in self.supervised():
            if child.alive:
                pids[name] = child.pid
        servers = (("fallback-twiml", self.fallback), ("twilio-sandbox", self.sandbox_child))
        for name, server in servers:
            if server is not None and server.alive:
                pids[name] = server.pid
        return pids

    def record_children(self) -> None:
        record_children(self.state_dir, self.child_pids())

    def broker_renewal(self) -> BrokerRenewal | None:
        """When to renew the embedded broker (dispatch/stack/renewal.py); None: never."""
        s, probe = self.settings, self.services.health.broker_probe
        if self.broker is None or probe is None or s.broker_renew_after_records <= 0:
            return None
        return BrokerRenewal(
            probe,
            self.pool,
            after_records=s.broker_renew_after_records,
            quiet_s=s.broker_renew_quiet_s,
            every_s=s.health_broker_history_every_s,
        )

    async def restore_broker(self) -> None:
        """Restore into the embedded broker, when its topics are empty, what the workers
        need from the archive (dispatch/stack/restore_needs.py)."""
        if self.broker is not None:
            self.last_restore = await restore_if_empty(
                self.pool, self.broker.bootstrap_servers, needed_only=True
            )
            if (probe := self.services.health.broker_probe) is not None:
                probe.forget()  # /health counts what the broker takes after the restore

    async def warm_relay(self) -> None:
        """The relay's broker connections opened and its topics' metadata fetched before
        the stack says it is ready; a broker that does not answer is left to the relay."""
        try:
            async with asyncio.timeout(RELAY_WARM_TIMEOUT_S):
                await self.spool.warm(event_topics())
        except Exception as exc:
            log.warning("relay_warm_up_failed", error=f"{type(exc).__name__}: {exc}"[:300])

    async def start_projector(self) -> None:
        s = self.settings
        self.projector = read_model_projector(self.pool, s)
        await self.projector.start()

    async def park_clients(self) -> None:
        """Stop everything that talks to the broker: the spool relay, the publisher (its
        unsent batches are dropped, their rows stay unpublished), the projector, the workers."""
        await self.spool.stop()
        await self.publisher.stop()
        if getattr(self, "projector", None) is not None:
            await self.projector.stop()
        await asyncio.gather(*(w.stop(timeout_s=PARKED_WORKER_STOP_S) for w in self.workers))

    def resume_producers(self) -> None:
        self.spool.start()  # the publisher connects again on its first publish

    def worker_env(self) -> dict[str, str]:
        s = self.settings
        return {
            "KAFKA_BOOTSTRAP_SERVERS": s.kafka_bootstrap_servers,
            "DATABASE_URL": s.database_url,
            "EMBEDDED_BROKER": "1" if s.embedded_broker else "0",
            "TWILIO_API_BASE_URL": s.twilio_api_base_url,
            "TWILIO_ACCOUNT_SID": s.twilio_account_sid,
            "TWILIO_AUTH_TOKEN": s.twilio_auth_token.get_secret_value(),
            "TWILIO_FROM_NUMBER": s.twilio_from_number,
            "TWILIO_EXTRA_SENDERS": s.twilio_extra_senders,
            "PUBLIC_BASE_URL": s.public_base_url,
            "STATE_DIR": str(self.state_dir),
            "TOPIC_PARTITIONS": str(s.topic_partitions),
            "VOICE_REDIAL_DELAY_S": str(s.voice_redial_delay_s),
            "LOG_FORMAT": "json",
            "LOG_LEVEL": s.log_level,
        }

    async def start_worker(self) -> WorkerProcess:
        worker = WorkerProcess(
            self.worker_env(), self.state_dir, name=f"worker-{len(self.workers)}"
        )
        self.workers.append(worker)  # listed first: a cancelled start is still stopped
        worker.start()
        await worker.wait_ready()
        return worker

    async def replace_workers(
        self, *, only: str | None = None
    ) -> list[tuple[str, int | None, int]]:
        """Stop (if still there) and start again every worker, or the one named; returns
        (name, old pid, new pid) for each once all are ready."""
        replaced: list[tuple[str, int | None, int]] = []
        for i, old in enumerate(self.workers):
            if only is not None and old.name != only:
                continue
            await old.stop(timeout_s=PARKED_WORKER_STOP_S)
            new = WorkerProcess(self.worker_env(), self.state_dir, name=old.name)
            self.workers[i] = new
            new.start()
            replaced.append((old.name, old.last_pid, new.pid))
        ready = {w.name: w for w in self.workers}
        await asyncio.gather(*(ready[name].wait_ready() for name, _, _ in replaced))
        return replaced

    async def stop(self) -> None:
        """Stop in reverse: the supervisor, producers, consumers, then the infrastructure,
        each child by its PID."""
        await self.supervisor.stop()
        if getattr(self, "_runner", None) is not None:
            await self._runner.cleanup()
        if getattr(self, "spool", None) is not None:
            await self.spool.stop()
        if getattr(self, "publisher", None) is not None:
            await self.publisher.stop()
        for worker in reversed(self.workers):
            await worker.stop()
        if getattr(self, "projector", None) is not None:
            await self.projector.stop()
        if getattr(self, "services", None) is not None:
            await self.services.close()
        for part in reversed(self._stoppers):
            await part.stop()  # type: ignore[attr-defined]
        self._stoppers.clear()
        if self._lock.held:
            forget_children(self.state_dir)
            self._lock.release()
