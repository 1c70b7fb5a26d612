"""ProviderLink: the worker's reads of the provider's account, and what it tells of them.

The provider here is an in-process stand-in whose answers the test scripts; the real
adapter's reach() against the sandbox is in tests/integration/test_twilio_client.py, and a
started worker's first read in tests/e2e/test_crisis_call.py.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import MutableMapping
from datetime import datetime
from typing import Any

from structlog.testing import capture_logs

from dispatch.paging.provider_link import ProviderLink
from dispatch.paging.telephony import ProviderReceipt, TelephonyError


class ScriptedProvider:
    """Answers reach() as scripted: None succeeds, an exception is raised, "hang" never
    answers. Every other request is refused: a link must never send anything."""

    def __init__(self, *answers: Exception | str | None) -> None:
        self.answers = deque(answers)
        self.reads = 0
        self.read = asyncio.Event()

    async def reach(self) -> None:
        self.reads += 1
        self.read.set()
        answer = self.answers.popleft() if self.answers else None
        if answer == "hang":
            await asyncio.Event().wait()
        if isinstance(answer, Exception):
            raise answer

    async def send_sms(
        self, *, to: str, body: str, status_callback: str | None, validity_s: int
    ) -> ProviderReceipt:
        raise AssertionError("a link sent an SMS")

    async def place_call(
        self, *, to: str, say: str, gather_url: str, status_callback: str | None,
        detect_machine: bool,
    ) -> ProviderReceipt:  # fmt: skip
        raise AssertionError("a link placed a call")

    async def sent_sms(self, *, to: str, body: str, sent_after: datetime) -> list[ProviderReceipt]:
        raise AssertionError("a link looked up messages")

    async def placed_calls(self, *, to: str, placed_after: datetime) -> list[ProviderReceipt]:
        raise AssertionError("a link looked up calls")

    async def close(self) -> None:
        return None


def _down() -> TelephonyError:
    return TelephonyError("twilio reach: ClientConnectorError: refused", provider_fault=True)


def _link_lines(captured: list[MutableMapping[str, Any]]) -> list[MutableMapping[str, Any]]:
    """The link's own lines: the suite's event loop is shared, and a stack another test
    started may log (relaying, projecting) while these run."""
    return [e for e in captured if str(e["event"]).startswith("telephony_")]


async def test_a_run_of_failed_reads_is_told_once_and_its_end_once() -> None:
    provider = ScriptedProvider(_down(), _down(), _down(), None, None)
    link = ProviderLink(provider, every_s=20.0)

    with capture_logs() as captured:
        answers = [await link.reach() for _ in range(5)]
    logs = _link_lines(captured)

    assert answers == [False, False, False, True, True]
    assert [(e["event"], e["log_level"]) for e in logs] == [
        ("telephony_unreachable", "error"),
        ("telephony_reachable_again", "warning"),
    ]
    assert logs[0]["error"] == "twilio reach: ClientConnectorError: refused"
    assert logs[1]["failed_reads"] == 3
    assert link.failures == 0


async def test_refused_credentials_are_told_with_the_providers_status_at_once() -> None:
    refused = TelephonyError("twilio reach: HTTP 401 (code 20003): Authenticate", status_code=401)
    link = ProviderLink(ScriptedProvider(refused), every_s=20.0)

    with capture_logs() as captured:
        assert not await link.reach()
    logs = _link_lines(captured)

    assert [(e["event"], e["status_code"]) for e in logs] == [("telephony_unreachable", 401)]
    assert link.failures == 1
    assert link.error == "twilio reach: HTTP 401 (code 20003): Authenticate"


async def test_an_unreachable_provider_is_an_error_from_the_second_failed_read() -> None:
    """One failed read may be a blip: `error` (what /health sees) waits for the second;
    a read that succeeds clears it."""
    link = ProviderLink(ScriptedProvider(_down(), _down(), None), every_s=20.0)
    seen = []
    for _ in range(3):
        await link.reach()
        seen.append(link.error)

    assert seen == [None, "twilio reach: ClientConnectorError: refused", None]


async def test_a_provider_that_never_answers_is_a_failed_read_after_the_timeout() -> None:
    link = ProviderLink(ScriptedProvider("hang"), every_s=20.0, timeout_s=0.05)

    with capture_logs() as captured:
        assert not await link.reach()
    logs = _link_lines(captured)

    assert [e["event"] for e in logs] == ["telephony_unreachable"]
    assert logs[0]["error"] == "TimeoutError"


async def test_a_started_link_reads_again_and_again_unasked() -> None:
    provider = ScriptedProvider()
    link = ProviderLink(provider, every_s=0.01)
    link.start()
    try:
        for _ in range(3):  # each read sets the event: three reads came without a call
            provider.read.clear()
            await asyncio.wait_for(provider.read.wait(), timeout=5)
    finally:
        await link.stop()
    assert provider.reads >= 3


async def test_a_link_every_zero_seconds_reads_only_when_asked() -> None:
    provider = ScriptedProvider()
    link = ProviderLink(provider, every_s=0)
    link.start()
    await link.reach()
    for _ in range(5):  # a loop, had one been started, would read at each turn
        await asyncio.sleep(0)
    await link.stop()

    assert provider.reads == 1
