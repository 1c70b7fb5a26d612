"""PostgreSQL down: callers still reach the on-duty worker, from the web edge's memory; the
call waits in the local spool file and is dispatched and paged once PostgreSQL is back.

A stack of its own (its own embedded PostgreSQL, broker, sandbox and worker): the test
stops that PostgreSQL by PID and starts it again on the same data directory and port.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from structlog.testing import capture_logs

from dispatch.crisis.events import CrisisCallReceived, CrisisTextReceived
from dispatch.demo.scenario import seed
from dispatch.demo.seed import CARERS, CLIENT_PHONES, TEAM_ID
from dispatch.events.codec import decode
from dispatch.settings import Settings
from dispatch.stack.postgres import EmbeddedPostgres
from dispatch.stack.runtime import Stack
from integrations.twilio.sandbox import SandboxPhones
from tests.e2e.helpers import (
    code_of,
    last_index,
    next_page,
    on_duty_primary,
    sms_count,
    until,
)


@pytest.fixture(scope="module")
async def own_stack() -> AsyncIterator[Stack]:
    """A whole stack whose PostgreSQL these tests may stop; everything stopped by PID after."""
    state_dir = _reachable_state_dir()
    settings = Settings(
        database_url="",  # an embedded PostgreSQL of its own
        kafka_bootstrap_servers="",
        twilio_api_base_url="",
        state_dir=state_dir,
        topic_partitions=1,
        rota_cache_refresh_s=0.5,
        edge_db_timeout_s=1.0,
        log_level="warning",
    )
    stack = Stack(settings, durable=False)
    await stack.start()
    try:
        await seed(stack, stack.clock.now())
        yield stack
    finally:
        await stack.stop()
        shutil.rmtree(state_dir, ignore_errors=True)


def _reachable_state_dir() -> Path:
    """Straight under /tmp: as root, PostgreSQL runs as a user that must reach its data dir."""
    state_dir = Path(tempfile.mkdtemp(prefix="dispatch-outage-"))
    state_dir.chmod(0o755)
    return state_dir


def filed_events(stack: Stack) -> list[Any]:
    """The events waiting in the web edge's local spool file, in order."""
    return [decode(line).payload for line in stack.services.spool.fallback.waiting()]


async def test_the_stack_gives_the_line_a_fallback_url_that_needs_nothing_else(
    own_stack: Stack,
) -> None:
    """The stack serves the static fallback TwiML from a process of its own and sets it as
    the sandbox number's fallback URL; it dials DEFAULT_CRISIS_NUMBER."""
    sandbox: Any = own_stack.sandbox
    assert sandbox.voice_fallback_url == own_stack.fallback.url
    async with aiohttp.ClientSession() as http, http.post(own_stack.fallback.url) as resp:
        assert resp.status == 200
        assert f"<Dial>{own_stack.settings.default_crisis_number}</Dial>" in await resp.text()


async def test_postgres_down_caller_is_dialled_and_paged_after_it_is_back(
    own_stack: Stack,
) -> None:
    """Stop PostgreSQL by PID: a client's call is answered with TwiML dialling the on-duty
    worker (memory, its age logged) and a crisis text is thanked, both kept fsync'ed in the
    local file; PostgreSQL restarted on the same data: both are moved into the spool, the
    call is dispatched and the worker paged, exactly once."""
    stack, s = own_stack, own_stack.settings
    primary = await on_duty_primary(stack)
    cache = stack.services.rota_cache
    await until(lambda: _cache_knows(cache, s.crisis_line_number), what="the rota in memory")
    await until(lambda: _cache_knows_carer(cache, CARERS["c-03"][0]), what="the carer in memory")
    postgres: EmbeddedPostgres = stack.postgres
    port, data_dir = postgres.port, postgres.data_dir
    await postgres.stop()  # SIGINT to its PID, reaped
    phones = SandboxPhones(s.twilio_api_base_url)
    restarted = EmbeddedPostgres(data_dir, port=port, durable=False)
    try:
        after = last_index(stack)
        with capture_logs() as logs:
            status, twiml = await phones.place_call(CLIENT_PHONES["c-01"], s.crisis_line_number)
            text_status, reply = await phones.send_sms(
                CLIENT_PHONES["c-02"], s.crisis_line_number, "please call me"
            )
            carer_status, carer_twiml = await phones.place_call(
                CARERS["c-03"][0], s.crisis_line_number
            )
        assert status == 200 and f"<Number>{primary.phone}</Number>" in twiml
        assert text_status == 200 and "reached the crisis team" in reply
        assert carer_status == 200 and "<Dial" in carer_twiml
        used = next(line for line in logs if line["event"] == "rota_cache_used")
        assert 0 <= used["age_s"] < 30
        call, text, carer = filed_events(stack)
        assert isinstance(call, CrisisCallReceived) and call.dialled_staff_id == primary.staff_id
        assert isinstance(text, CrisisTextReceived) and text.client_id == "c-02"
        # The consent cannot be read: the carer is told nothing, and the call is kept.
        assert isinstance(carer, CrisisCallReceived) and carer.caller_kind == "carer"
        assert carer.carer_consent == ()

        await restarted.start()
        await until(lambda: _moved(stack, call.call_sid, text.message_sid, carer.call_sid),
                    within_s=30, what="the file moved into the spool and deleted")  # fmt: skip
        page = await next_page(phones, primary.phone, after=after, timeout=40)
        while "crisis call (client)" not in page["body"]:  # the text may be paged first
            page = await next_page(phones, primary.phone, after=page["index"], timeout=40)
        code = code_of(page["body"])
        row = await until(lambda: stack.read_models.dispatch_by_code(code), within_s=30)
        assert row.client_id == "c-01" and row.team_id == TEAM_ID
        assert await sms_count(stack, primary.phone, f" {code}:") == 1
    finally:
        await phones.close()
        await restarted.stop()


async def _cache_knows_carer(cache: Any, phone: str) -> bool:
    caller = cache.snapshot.callers.get(phone) if cache.snapshot is not None else None
    return caller is not None and caller.kind == "carer"


async def _cache_knows(cache: Any, line: str) -> bool:
    return cache.snapshot is not None and line in cache.snapshot.lines


async def _moved(stack: Stack, *sids: str) -> bool:
    """Every event with one of these Twilio ids is in the spool, and the file is gone."""
    try:
        found = await stack.pool.fetchval(
            "SELECT count(*) FROM ingress_spool WHERE convert_from(value, 'UTF8') LIKE ANY($1)",
            [f"%{json.dumps(sid)}%" for sid in sids],
        )
    except Exception:  # PostgreSQL still coming up
        return False
    return found == len(sids) and stack.services.spool.fallback.empty()
