"""The whole system on one machine: the embedded parts where no real ones are configured.

Used by `dispatch up`, `dispatch demo` and the end-to-end tests. Start order follows the
embedded broker's limits: database and broker first, topics created explicitly, then the
consumers (projector, worker), then the producers (web edge, spool relay).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import structlog
from aiohttp import web

from dispatch.bootstrap import bootstrap
from dispatch.clock import Clock, SystemClock
from dispatch.fallback.process import start_fallback_server
from dispatch.settings import Settings
from dispatch.stack.worker_process import WorkerProcess
from dispatch.topics import topic_specs
from dispatch.web.app import make_web_app
from projections.projector import Projector

log = structlog.get_logger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Stack:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    durable: bool = True

    def __post_init__(self) -> None:
        self.state_dir = Path(self.settings.state_dir).resolve()
        self._stoppers: list[object] = []
        self.sandbox: object | None = None
        self.workers: list[WorkerProcess] = []

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
        updates: dict[str, object] = {"state_dir": self.state_dir}
        if not s.database_url:
            self.postgres = EmbeddedPostgres(self.state_dir / "postgres", durable=self.durable)
            await self.postgres.start()
            self._stoppers.append(self.postgres)
            updates["database_url"] = self.postgres.url
        if not s.kafka_bootstrap_servers:
            self.broker = EmbeddedBroker(self.state_dir / "broker", partitions=s.topic_partitions)
            await self.broker.start()
            self._stoppers.append(self.broker)
            updates["kafka_bootstrap_servers"] = self.broker.bootstrap_servers
            updates["embedded_broker"] = True
        port = s.web_port or free_port(s.web_host)
        public = s.public_base_url or f"http://{s.web_host}:{port}"
        updates.update(web_port=port, public_base_url=public)
        # The lines' Fallback URL: a static document served by a process of its own.
        self.fallback = await start_fallback_server(s, self.state_dir)
        self._stoppers.append(self.fallback)
        if not s.twilio_api_base_url:
            from integrations.twilio.sandbox import TwilioSandbox

            sandbox = TwilioSandbox(
                s.twilio_account_sid,
                s.twilio_auth_token.get_secret_value(),
                voice_webhook_url=f"{public}/twilio/voice",
                sms_webhook_url=f"{public}/twilio/sms",
            )
            updates["twilio_api_base_url"] = await sandbox.start()
            sandbox.set_fallbacks(self.fallback.url)
            self.sandbox = sandbox
            self._stoppers.append(sandbox)
        self.settings = s = s.model_copy(update=updates)

        self.services = await bootstrap(s, clock=self.clock)
        self.pool: asyncpg.Pool = self.services.pool
        self.read_models = self.services.read_models
        self.projector = Projector(
            self.pool,
            s.kafka_bootstrap_servers,
            [spec.name for spec in topic_specs() if spec.carries_events],
            fetch_max_wait_ms=s.consumer_fetch_max_wait_ms,
        )
        await self.projector.start()
        if with_worker:
            await self.start_worker()
        self.publisher = self.services.publisher
        await self.publisher.start()
        self.spool = self.services.spool
        self.spool.start()
        self._runner = web.AppRunner(make_web_app(self.services), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, s.web_host, s.web_port).start()
        log.info(
            "stack_started",
            web=s.public_base_url,
            kafka=s.kafka_bootstrap_servers,
            twilio=s.twilio_api_base_url,
            embedded_broker=s.embedded_broker,
        )

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
        worker.start()
        self.workers.append(worker)
        await worker.wait_ready()
        return worker

    async def stop(self) -> None:
        """Stop in reverse: producers, consumers, then the infrastructure, each by PID."""
        if getattr(self, "_runner", None) is not None:
            await self._runner.cleanup()
        if getattr(self, "spool", None) is not None:
            await self.spool.stop()
        if getattr(self, "publisher", None) is not None:
            await self.publisher.stop()
        for worker in self.workers:
            await worker.stop()
        if getattr(self, "projector", None) is not None:
            await self.projector.stop()
        if getattr(self, "services", None) is not None:
            await self.services.close()
        for part in reversed(self._stoppers):
            await part.stop()  # type: ignore[attr-defined]
        self._stoppers.clear()
