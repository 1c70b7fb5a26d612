"""The agents' guard: an agent never moves past an event it could not handle.

Each event is handled in place until it succeeds. A transient failure (database or broker
unreachable, a provider fault, a timeout) is retried with exponential backoff for as long
as it lasts, with one warning per `log_every_s`. A poison event (it cannot be decoded or
validated, or it raised the same kind of non-transient error `poison_after` times in a row)
is published to the dead-letter topic with the reason and its position, an alert is logged
once at error level, and only then does the agent go on to the next event.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import asyncpg
import faust
import pydantic
import structlog
from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError
from faust.exceptions import ProducerSendError

from dispatch.events import Envelope
from dispatch.events.codec import EventDecodeError
from dispatch.paging.failover import RetryPolicy
from dispatch.paging.telephony import TelephonyError
from dispatch.settings import Settings
from dispatch.topics import DEAD_LETTERS

log = structlog.get_logger(__name__)
Failure = Literal["transient", "poison", "error"]
Handler = Callable[[Envelope], Awaitable[None]]

_TRANSIENT: tuple[type[BaseException], ...] = (
    OSError,  # refused or reset connections, unreachable hosts
    TimeoutError,
    asyncpg.PostgresConnectionError,  # refused, or closed in the middle of a query
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, cannot connect now
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections
    asyncpg.exceptions.TransactionRollbackError,  # serialization failure, deadlock
    KafkaConnectionError,
    KafkaTimeoutError,
    ProducerSendError,
)
_POISON: tuple[type[BaseException], ...] = (EventDecodeError, pydantic.ValidationError)


@dataclass(frozen=True)
class Undecodable:
    """What the topic codec hands an agent for bytes that are not an event envelope."""

    raw: bytes
    error: str


@dataclass(frozen=True)
class Delivery:
    """One message as an agent received it: where it was, and what it held."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: Envelope | Undecodable
    event: Any = field(default=None, compare=False, repr=False)  # the faust event, if any

    @classmethod
    def of(cls, event: Any) -> Delivery:
        """From a faust stream event (`stream.events()`)."""
        message = event.message
        return cls(
            message.topic, message.partition, message.offset, message.key, event.value, event
        )


def classify(exc: BaseException) -> Failure:
    """transient: retry in place without limit; poison: dead-letter at once; error: a bug
    or a refusal, retried a few times before the event is dead-lettered."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:  # the error and its causes
        seen.add(id(current))
        if isinstance(current, _POISON):
            return "poison"
        if getattr(current, "transient", False) or isinstance(current, _TRANSIENT):
            return "transient"
        if isinstance(current, TelephonyError) and current.provider_fault:
            return "transient"
        if isinstance(current, KafkaError) and current.retriable:
            return "transient"
        current = current.__cause__
    return "error"


class DeadLetterSink(Protocol):
    async def send(self, key: bytes | None, record: bytes) -> None:
        """Publish one dead-letter record and wait for the broker's ack."""
        ...


@dataclass(frozen=True)
class GuardPolicy:
    poison_after: int = 3  # same non-transient error this many times in a row: dead-letter
    first_wait_s: float = 0.2
    max_wait_s: float = 30.0
    log_every_s: float = 30.0  # at most one retry warning per event this often


def dead_letter_record(delivery: Delivery, *, agent: str, reason: str, error: str) -> bytes:
    """The dead-letter topic's record: the event (or its raw bytes), why, who, where."""
    value = delivery.value
    record: dict[str, Any] = {
        "agent": agent,
        "reason": reason,
        "error": error[:2000],
        "topic": delivery.topic,
        "partition": delivery.partition,
        "offset": delivery.offset,
        "key": delivery.key.decode("utf-8", "replace") if delivery.key else None,
    }
    if isinstance(value, Envelope):
        record["envelope"] = value.model_dump(mode="json")
    else:
        record["raw_base64"] = base64.b64encode(value.raw).decode("ascii")
    return json.dumps(record, sort_keys=True).encode()


class AgentGuard:
    """Runs one agent's handler on each delivery under the rules above."""

    def __init__(
        self,
        agent: str,
        dead_letters: DeadLetterSink,
        policy: GuardPolicy | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.agent = agent
        self._dead_letters = dead_letters
        self._policy = policy or GuardPolicy()
        self._sleep = sleep
        self._monotonic = monotonic
        self.dead_lettered = 0  # how many events this agent gave up on (a figure for metrics)

    def backoff(self, attempt: int) -> float:
        """The wait before retry number `attempt` (1, 2, ...)."""
        return float(min(self._policy.first_wait_s * 2 ** (attempt - 1), self._policy.max_wait_s))

    @property
    def log_every_s(self) -> float:
        return self._policy.log_every_s

    async def handle(self, delivery: Delivery, handler: Handler) -> bool:
        """Handle one delivery; True when handled, False when it was dead-lettered."""
        value = delivery.value
        if isinstance(value, Undecodable):
            await self._dead_letter(delivery, "undecodable", value.error)
            return False
        failures = 0  # consecutive non-transient failures of one kind
        last_kind = ""
        waits = RetryWaits(self, "agent_event_retrying", **_position(delivery))
        while True:
            try:
                await handler(value)
            except Exception as exc:
                kind = classify(exc)
                if kind == "poison":
                    await self._dead_letter(delivery, "poison", repr(exc))
                    return False
                if kind == "error":
                    signature = type(exc).__qualname__
                    failures = failures + 1 if signature == last_kind else 1
                    last_kind = signature
                    if failures >= self._policy.poison_after:
                        await self._dead_letter(delivery, f"failed {failures} times", repr(exc))
                        return False
                else:
                    failures, last_kind = 0, ""
                await waits.after(exc, failure=kind)
                continue
            if waits.attempts:
                log.info("agent_event_recovered", agent=self.agent, attempts=waits.attempts)
            return True

    async def _dead_letter(self, delivery: Delivery, reason: str, error: str) -> None:
        record = dead_letter_record(delivery, agent=self.agent, reason=reason, error=error)
        attempt = 0
        while True:  # the dead-letter topic is part of "never lost": wait for the broker
            try:
                await self._dead_letters.send(delivery.key, record)
                break
            except Exception as exc:
                attempt += 1
                if attempt == 1 or attempt % 20 == 0:
                    log.warning("dead_letter_send_retrying", agent=self.agent, error=repr(exc))
                await self._sleep(min(self._policy.first_wait_s * 2**attempt, 5.0))
        self.dead_lettered += 1
        log.error(
            "event_dead_lettered",
            alert=True,
            agent=self.agent,
            reason=reason,
            error=error[:500],
            **_position(delivery),
        )


class TopicDeadLetters:
    """The dead-letter topic of a faust app (JSON records, keyed like the event)."""

    def __init__(self, app: faust.App) -> None:
        self._topic = app.topic(
            DEAD_LETTERS, key_type=bytes, value_type=bytes, value_serializer="raw"
        )

    async def send(self, key: bytes | None, record: bytes) -> None:
        fut = await self._topic.send(key=key, value=record)
        await fut


def guards(app: faust.App, policy: GuardPolicy) -> Callable[[str], AgentGuard]:
    """A guard factory for one worker: every agent shares the app's dead-letter topic."""
    sink = TopicDeadLetters(app)
    return lambda agent: AgentGuard(agent, sink, policy)


def guard_policy(settings: Settings) -> GuardPolicy:
    return GuardPolicy(
        poison_after=settings.agent_poison_after,
        max_wait_s=settings.agent_retry_max_wait_s,
        log_every_s=settings.agent_retry_log_every_s,
    )


def page_retry_policy(settings: Settings) -> RetryPolicy:
    """When pages the provider kept failing are tried again (the failover agent's timer)."""
    return RetryPolicy(
        first_s=settings.page_retry_first_s,
        max_s=settings.page_retry_max_s,
        limit=settings.page_retry_limit,
    )


class RetryWaits:
    """The waits of one retry loop under an agent's guard: the guard's backoff before each
    retry, and at most one warning per `log_every_s` (`event`, with `fields`). The guard's
    per-event loop and the batches' (dispatch/worker/batches.py `retried`) both wait so."""

    def __init__(self, guard: AgentGuard, event: str, **fields: Any) -> None:
        self._guard = guard
        self._event = event
        self._fields = fields
        self.attempts = 0  # failed so far
        self._last_log = float("-inf")

    async def after(self, exc: Exception, **fields: Any) -> None:
        """Count a failed attempt, warn if a warning is due, and wait the backoff."""
        self.attempts += 1
        guard = self._guard
        wait = guard.backoff(self.attempts)
        if guard._monotonic() - self._last_log >= guard.log_every_s:
            self._last_log = guard._monotonic()
            log.warning(
                self._event,
                agent=guard.agent,
                attempts=self.attempts,
                error=repr(exc)[:500],
                retry_in_s=round(wait, 3),
                **self._fields,
                **fields,
            )
        await guard._sleep(wait)


def _position(delivery: Delivery) -> dict[str, Any]:
    context: dict[str, Any] = {
        "topic": delivery.topic,
        "partition": delivery.partition,
        "offset": delivery.offset,
    }
    if isinstance(delivery.value, Envelope):
        context.update(delivery.value.log_context())
    return context
