"""The composition root: every service one process needs, built in one place.

`bootstrap(settings)` is called once per process, inside its event loop: by the stack
(`dispatch up`, the demo, the end-to-end tests), by the faust worker on its first event, by
the web app's tests and by every CLI command. Nothing is built at import time. Tests pass
their own clock, telephony, pool or publisher; what was passed in is not closed here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import asyncpg

from dispatch.bus import EventPublisher
from dispatch.clients.service import JourneyService
from dispatch.clock import Clock, SystemClock
from dispatch.crisis.service import CrisisLine
from dispatch.escalation.service import EscalationService
from dispatch.events.registry import BY_TYPE
from dispatch.health import HealthServices, health_services
from dispatch.ingress.outage_spool import OutageSpool
from dispatch.paging.confirmations import ReplyConfirmations
from dispatch.paging.ledger import PageLedger
from dispatch.paging.notifier import Notifier
from dispatch.paging.outage import OutageNotices
from dispatch.paging.telephony import NoTelephony, Telephony
from dispatch.replies.desk import ReplyDesk
from dispatch.review.service import ReviewDesk
from dispatch.risk.service import RiskEngine
from dispatch.settings import Settings
from dispatch.web.rota_cache import RotaCache
from projections.carer_queries import CarerQueries
from projections.console_accounts import ConsoleAccounts
from projections.console_board import ConsoleBoard
from projections.fact_changes import listener
from projections.health import PostgresHealthReadings
from projections.journey_queries import JourneyQueries
from projections.lookups import ReadModelRota, TeamPolicies
from projections.observations import ArchiveFigures
from projections.pool import connect
from projections.queries import ReadModels
from projections.read_memo import ReadMemo
from projections.replies import ReplyLookups
from projections.review_queries import ReviewQueries
from projections.risk_queries import RiskQueries
from projections.staff_queries import StaffQueries

Closer = Callable[[], Awaitable[None]]
# The connections a serving process (the stack's web edge, a worker) keeps open however
# quiet it is: asyncpg closes the others after 5 idle minutes, and one call's path needs a
# few at once (webhook insert, relay, projector, status callbacks); each one opened on
# the path costs a connection start and a cold backend (docs/decisions/038).
SERVING_POOL_FLOOR = 4


@dataclass
class Services:
    """One process's services. `close()` releases what bootstrap opened, in reverse."""

    settings: Settings
    clock: Clock
    pool: asyncpg.Pool
    read_models: ReadModels
    risk_queries: RiskQueries
    ledger: PageLedger
    publisher: EventPublisher
    spool: OutageSpool  # PostgreSQL, else a local file (docs/decisions/013)
    telephony: Telephony
    rota: ReadModelRota
    memo: ReadMemo  # staff rows and policies kept while unchanged, once started (the worker)
    rota_cache: RotaCache  # the web edge's routing facts: PostgreSQL, else memory
    crisis_line: CrisisLine
    escalation: EscalationService
    risk_engine: RiskEngine
    notifier: Notifier
    outage_notices: OutageNotices
    confirmations: ReplyConfirmations
    replies: ReplyDesk
    review: ReviewDesk
    health: HealthServices
    carers: CarerQueries
    staff_roster: StaffQueries
    journey: JourneyService  # referrals, caseload, contacts, care plans (CLI, API, demo)
    accounts: ConsoleAccounts  # the web console's accounts and sessions
    console_board: ConsoleBoard  # the web console's live board reads
    _closers: list[Closer] = field(default_factory=list)

    @property
    def public_base_url(self) -> str:
        return self.settings.public_base_url

    async def close(self) -> None:
        await self.health.close()
        await self.spool.stop()
        while self._closers:
            await self._closers.pop()()


async def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    telephony: Telephony | None = None,
    pool: asyncpg.Pool | None = None,
    publisher: EventPublisher | None = None,
    pool_size: int = 10,
    pool_floor: int = 1,
) -> Services:
    """Build every service on one connection pool. Kafka and Twilio connect on first use.
    A long-running process asks for a pool floor of SERVING_POOL_FLOOR (see there)."""
    closers: list[Closer] = []
    clock = clock or SystemClock()
    if pool is None:
        if not settings.database_url:
            # asyncpg would fall back to libpq's defaults: some other local database.
            raise ValueError("DATABASE_URL is empty: give the PostgreSQL URL to connect to")
        pool = await connect(settings.database_url, min_size=pool_floor, max_size=pool_size)
        closers.append(pool.close)
    if publisher is None:
        publisher = EventPublisher(settings.kafka_bootstrap_servers)
        closers.append(publisher.stop)
    if telephony is None and settings.twilio_api_base_url:
        from integrations.twilio.client import TwilioTelephony

        telephony = TwilioTelephony.from_settings(settings)
        closers.append(telephony.close)
    elif telephony is None:
        telephony = NoTelephony()
    read_models = ReadModels(pool)
    memo = ReadMemo(listener(settings))
    closers.append(memo.stop)
    rota = ReadModelRota(read_models, memo)
    ledger = PageLedger(pool)
    spool = OutageSpool.from_settings(settings, pool, publisher, clock)
    lookups = ReplyLookups(pool, read_models, ledger)
    risk_queries = RiskQueries(pool)
    return Services(
        settings=settings,
        clock=clock,
        pool=pool,
        read_models=read_models,
        risk_queries=risk_queries,
        ledger=ledger,
        publisher=publisher,
        spool=spool,
        telephony=telephony,
        rota=rota,
        memo=memo,
        rota_cache=RotaCache.from_settings(settings, read_models, pool, clock),
        crisis_line=CrisisLine(rota, clock, policies=TeamPolicies(pool, memo)),
        escalation=EscalationService(rota, clock),
        risk_engine=RiskEngine(rota, clock),
        notifier=Notifier(
            telephony=telephony,
            ledger=ledger,
            clock=clock,
            status_callback_base=settings.public_base_url or None,
            validity_s=settings.page_validity_seconds,
            dispatches=read_models,
            callback_wait_s=settings.page_callback_wait_s,
        ),
        outage_notices=OutageNotices(read_models, rota),
        confirmations=ReplyConfirmations(
            telephony=telephony,
            ledger=ledger,
            clock=clock,
            names=rota,
            validity_s=settings.page_validity_seconds,
        ),
        replies=ReplyDesk(spool=spool, finder=lookups, decisions=lookups, clock=clock),
        review=ReviewDesk(ReviewQueries(pool), spool, clock, frozenset(BY_TYPE)),
        health=health_services(settings, clock, PostgresHealthReadings(pool), ArchiveFigures(pool)),
        carers=CarerQueries(pool),
        staff_roster=StaffQueries(pool, read_models),
        journey=JourneyService(JourneyQueries(pool, risk_queries), spool, clock),
        accounts=ConsoleAccounts(pool),
        console_board=ConsoleBoard(pool, read_models),
        _closers=closers,
    )


@asynccontextmanager
async def open_services(settings: Settings, **overrides: object) -> AsyncIterator[Services]:
    """bootstrap() for a command that runs once: the services, closed when it is done."""
    services = await bootstrap(settings, **overrides)  # type: ignore[arg-type]
    try:
        yield services
    finally:
        await services.close()
