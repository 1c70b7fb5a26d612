"""The agents' guard: an event is retried in place until handled, or set aside as poison."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import asyncpg
import pydantic
import pytest
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError
from structlog.testing import capture_logs

from dispatch.events import Envelope
from dispatch.events.codec import EventDecodeError
from dispatch.paging.events import PageCancelled
from dispatch.paging.telephony import TelephonyError
from dispatch.worker.codec import EnvelopeCodec
from dispatch.worker.guard import AgentGuard, Delivery, GuardPolicy, Undecodable, classify
from tests.unit.page_events import page_cancelled

T0 = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


def envelope() -> Envelope:
    return page_cancelled(at=T0)


def delivery(value: Envelope | Undecodable) -> Delivery:
    return Delivery("act.page-events", 2, 41, b"d-1", value)


class DeadLetters:
    """The dead-letter topic: records what was sent; can refuse a number of sends."""

    def __init__(self, refuse: int = 0) -> None:
        self.records: list[dict[str, object]] = []
        self.refuse = refuse

    async def send(self, key: bytes | None, record: bytes) -> None:
        if self.refuse:
            self.refuse -= 1
            raise KafkaConnectionError("broker down")
        self.records.append(json.loads(record))


class Clock:
    """A fake monotonic clock that sleeping moves forward."""

    def __init__(self) -> None:
        self.t = 0.0
        self.waits: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.t += seconds

    def monotonic(self) -> float:
        return self.t


def guard(sink: DeadLetters, clock: Clock, **policy: float) -> AgentGuard:
    return AgentGuard(
        "notifier",
        sink,
        GuardPolicy(**policy),  # type: ignore[arg-type]
        sleep=clock.sleep,
        monotonic=clock.monotonic,
    )


def failing(errors: list[Exception]) -> tuple[list[Envelope], object]:
    """A handler that raises the given errors in turn, then succeeds."""
    handled: list[Envelope] = []

    async def handler(event: Envelope) -> None:
        if errors:
            raise errors.pop(0)
        handled.append(event)

    return handled, handler


def _validation_error() -> pydantic.ValidationError:
    try:
        PageCancelled.model_validate({"reason": "nope"})
    except pydantic.ValidationError as exc:
        return exc
    raise AssertionError("validation passed")


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (ConnectionRefusedError(111, "refused"), "transient"),
        (TimeoutError(), "transient"),
        (asyncpg.exceptions.CannotConnectNowError("starting up"), "transient"),
        (asyncpg.exceptions.ConnectionDoesNotExistError("closed"), "transient"),
        (asyncpg.exceptions.AdminShutdownError("shutting down"), "transient"),
        (KafkaConnectionError("no broker"), "transient"),
        (TelephonyError("HTTP 503", status_code=503, provider_fault=True), "transient"),
        (TelephonyError("HTTP 400", status_code=400), "error"),
        (MessageSizeTooLargeError(), "error"),
        (asyncpg.exceptions.UniqueViolationError("dup"), "error"),
        (KeyError("bug"), "error"),
        (EventDecodeError("not JSON"), "poison"),
        (_validation_error(), "poison"),
    ],
)
def test_failures_are_sorted_into_transient_poison_or_error(error: Exception, kind: str) -> None:
    """An outage is waited out, a malformed event is set aside, anything else is retried a
    few times."""
    assert classify(error) == kind


def test_an_error_caused_by_an_outage_is_an_outage() -> None:
    """A library error raised from a refused connection counts as the outage it is."""
    wrapped = RuntimeError("could not page")
    wrapped.__cause__ = ConnectionRefusedError(111, "refused")
    assert classify(wrapped) == "transient"


async def test_an_outage_is_waited_out_in_place_however_long_it_lasts() -> None:
    """100 refused connections in a row: the event is handled once the database is back."""
    sink, clock = DeadLetters(), Clock()
    handled, handler = failing([ConnectionRefusedError(111, "refused") for _ in range(100)])
    event = envelope()
    with capture_logs() as logs:
        ok = await guard(sink, clock, max_wait_s=30, log_every_s=300).handle(
            delivery(event),
            handler,  # type: ignore[arg-type]
        )
    assert ok and handled == [event] and sink.records == []
    assert clock.waits[:4] == [0.2, 0.4, 0.8, 1.6] and max(clock.waits) == 30
    retrying = [e for e in logs if e["event"] == "agent_event_retrying"]
    # about 2,900 s of retries, one warning per 300 s at most
    assert 5 <= len(retrying) <= 11
    assert retrying[0]["failure"] == "transient" and retrying[0]["offset"] == 41
    assert [e["attempts"] for e in logs if e["event"] == "agent_event_recovered"] == [100]


async def test_a_bug_that_keeps_failing_is_dead_lettered_and_the_agent_moves_on() -> None:
    """The same error three times: the event goes to the dead-letter topic with its reason,
    agent and position, and one alert is logged at error level."""
    sink, clock = DeadLetters(), Clock()
    handled, handler = failing([KeyError("staff") for _ in range(5)])
    event = envelope()
    g = guard(sink, clock, poison_after=3)
    with capture_logs() as logs:
        ok = await g.handle(delivery(event), handler)  # type: ignore[arg-type]
    assert not ok and handled == []
    [record] = sink.records
    assert record["agent"] == "notifier" and record["reason"] == "failed 3 times"
    assert (record["topic"], record["partition"], record["offset"]) == ("act.page-events", 2, 41)
    assert record["envelope"]["event_id"] == str(event.event_id)  # type: ignore[index]
    alerts = [e for e in logs if e["event"] == "event_dead_lettered"]
    assert len(alerts) == 1 and alerts[0]["log_level"] == "error" and alerts[0]["alert"]
    assert g.dead_lettered == 1


async def test_an_outage_between_errors_restarts_the_count() -> None:
    """Only the same non-transient error in a row condemns an event."""
    sink, clock = DeadLetters(), Clock()
    errors: list[Exception] = [KeyError("a"), KeyError("a"), OSError("down"), KeyError("a")]
    handled, handler = failing(errors)
    assert await guard(sink, clock, poison_after=3).handle(delivery(envelope()), handler)  # type: ignore[arg-type]
    assert len(handled) == 1 and sink.records == []


async def test_an_invalid_event_is_dead_lettered_at_once() -> None:
    """A validation error is poison: no retries, straight to the dead-letter topic."""
    sink, clock = DeadLetters(), Clock()
    _, handler = failing([_validation_error()])
    assert not await guard(sink, clock).handle(delivery(envelope()), handler)  # type: ignore[arg-type]
    assert clock.waits == [] and sink.records[0]["reason"] == "poison"


async def test_bytes_that_are_not_an_event_are_dead_lettered_with_their_bytes() -> None:
    """The codec hands undecodable bytes to the guard, which keeps them on the DLQ."""
    value = EnvelopeCodec()._loads(b"\xff not json")
    assert isinstance(value, Undecodable)
    sink, clock = DeadLetters(), Clock()
    handled, handler = failing([])
    assert not await guard(sink, clock).handle(delivery(value), handler)  # type: ignore[arg-type]
    assert handled == []
    [record] = sink.records
    assert base64.b64decode(str(record["raw_base64"])) == b"\xff not json"
    assert record["reason"] == "undecodable"


async def test_the_dead_letter_waits_for_the_broker() -> None:
    """A poison event is never dropped: the dead-letter send is retried until it is taken."""
    sink, clock = DeadLetters(refuse=4), Clock()
    _, handler = failing([EventDecodeError("bad")])
    assert not await guard(sink, clock).handle(delivery(envelope()), handler)  # type: ignore[arg-type]
    assert len(sink.records) == 1 and len(clock.waits) == 4
