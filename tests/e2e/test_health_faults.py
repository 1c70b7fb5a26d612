"""/health, /metrics and the dead-man's switch on a real stack of the test's own, while its
worker is killed by PID and started again. (A broker that is down or hangs:
tests/integration/test_health_readings.py; the stack's shutdown with a dead broker belongs
to the supervisor.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from dispatch.demo.seed import CLIENT_PHONES
from dispatch.stack.runtime import Stack
from integrations.twilio.sandbox import SandboxPhones
from tests.e2e.helpers import last_index, next_page, on_duty_primary, until
from tests.e2e.own_stack import own_stack
from tests.fixtures.heartbeat_receiver import Receiver, receiving

BEAT_EVERY_S = 0.3


def beats_after(receiver: Receiver, at: datetime) -> int:
    return sum(1 for beat in receiver.beats if datetime.fromisoformat(beat["at"]) > at)


async def beats_since(receiver: Receiver, at: datetime) -> int:
    return beats_after(receiver, at)


async def health(stack: Stack) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{stack.settings.public_base_url}/health") as resp,
    ):
        return resp.status, await resp.json()


async def metrics(stack: Stack) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{stack.settings.public_base_url}/metrics") as resp,
    ):
        text = await resp.text()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def red(stack: Stack, *checks: str) -> dict[str, Any] | None:
    status, body = await health(stack)
    failing = {name for name, c in body["checks"].items() if not c["ok"]}
    return body if status == 503 and set(checks) <= failing else None


async def green(stack: Stack) -> bool:
    return (await health(stack))[0] == 200


async def test_health_tells_the_truth_as_the_worker_dies_and_comes_back(
    pg_server_url: str, tmp_path: Path
) -> None:
    """Worker killed: /health turns 503 (no worker; then the call taken meanwhile waits for its
    page), the heartbeat goes silent, each reason is logged once. Worker back: the call is
    paged, /health is 200 again, the heartbeat resumes, the page latency is in /metrics."""
    async with receiving() as (mon, url), own_stack(
        pg_server_url, tmp_path / "stack",
        worker_heartbeat_s=0.5, health_worker_stale_s=3, health_page_wait_s=2,
        health_cache_s=0.2, heartbeat_url=url, heartbeat_interval_s=BEAT_EVERY_S,
    ) as stack:  # fmt: skip
        phones = SandboxPhones(stack.settings.twilio_api_base_url)
        try:
            await until(lambda: green(stack), within_s=30, what="a green /health")
            started = stack.clock.now()
            await until(lambda: beats_since(mon, started), what="a heartbeat")
            primary = await on_duty_primary(stack)
            with capture_logs() as logs:
                stack.workers[-1].kill()
                after = last_index(stack)
                status, twiml = await phones.place_call(
                    CLIENT_PHONES["c-03"], stack.settings.crisis_line_number
                )
                assert status == 200 and primary.phone in twiml  # the caller is still dialled
                await until(lambda: red(stack, "worker"), within_s=10, what="worker red")
                went_red = datetime.now(UTC)
                body = await until(lambda: red(stack, "worker", "first_page"), what="unpaged")
                waited = "first_page: a crisis contact has waited"
                assert any(r.startswith(waited) for r in body["reasons"])
                quiet_from = went_red + timedelta(seconds=BEAT_EVERY_S + 0.5)
                assert beats_after(mon, quiet_from) == 0, "no heartbeat while /health is red"
                seen = await metrics(stack)
                assert seen[("dispatch_health_check_ok", (("check", "worker"),))] == 0
                assert seen[("dispatch_unpaged_contacts", ())] >= 1

                restarted = datetime.now(UTC)
                await stack.start_worker()
                # the new worker joins the group and rebuilds its tables first: slow on a
                # loaded machine (over 40 s once, with other suites sharing the two cores)
                await next_page(phones, primary.phone, after=after, timeout=90)
                await until(lambda: green(stack), within_s=20, what="green again")
                await until(lambda: beats_since(mon, restarted), what="the heartbeat resuming")
            changes = [
                (e["event"], e["check"]) for e in logs if e["event"].startswith("health_check_")
            ]
            assert sorted(changes) == sorted([
                ("health_check_failing", "worker"), ("health_check_failing", "first_page"),
                ("health_check_cleared", "worker"), ("health_check_cleared", "first_page"),
            ])  # fmt: skip
            lag = {
                k: v
                for k, v in (await metrics(stack)).items()
                if k[0] == "dispatch_worker_lag_messages"
            }
            assert lag and all(v >= 0 for v in lag.values()), "the live worker reports its lag"
            latency = await until(
                lambda: _observed_pages(stack), what="the page latency in /metrics"
            )
            assert latency >= 1
        finally:
            await phones.close()


async def _observed_pages(stack: Stack) -> float:
    seen = await metrics(stack)
    return seen.get(
        ("dispatch_ring_to_first_page_seconds_count", (("contact", "CrisisCallReceived"),)), 0
    )
