"""Two of everything on one machine: a second web edge beside a Stack's own (its own pool,
spool relay, projector and HTTP server on the same PostgreSQL and broker), crisis calls
spread over the edges, and what came of them: dispatched, paged once, in order per client.

Both edges sit behind one public address, as behind a load balancer: a call is signed for
the stack's public URL and posted to either edge's own address. Used by
tests/e2e/test_two_edges_two_workers.py and bench/bench_scale.py.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from dispatch.bootstrap import Services, bootstrap
from dispatch.demo.seed import CLIENT_PHONES, TEAM_ID
from dispatch.soak.load import Answer, Caller, PlacedCall, expected_code
from dispatch.soak.observe import Observer
from dispatch.soak.report import SoakFacts, SoakFigures, figures
from dispatch.stack.broker import free_port
from dispatch.stack.runtime import Stack, read_model_projector
from dispatch.web.app import make_web_app
from integrations.twilio.sandbox_phones import SandboxPhones
from integrations.twilio.signatures import sign
from projections.projector import Projector

VOICE_PATH = "/twilio/voice"


class SecondEdge:
    """Another web edge process's parts, in this process: what `dispatch up` starts for its
    own edge (composition root, projector, spool relay, HTTP server), on the same database
    and broker as `stack`."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._runner: web.AppRunner | None = None
        self.services: Services | None = None
        self.projector: Projector | None = None
        self.url = ""

    async def start(self) -> None:
        s = self._stack.settings
        self.services = await bootstrap(s, clock=self._stack.clock)
        self.projector = read_model_projector(self.services.pool, s)
        await self.projector.start()
        self.services.spool.start()
        port = free_port(s.web_host)
        self._runner = web.AppRunner(make_web_app(self.services), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, s.web_host, port).start()
        self.url = f"http://{s.web_host}:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self.services is not None:
            await self.services.spool.stop()
            await self.services.publisher.stop()
        if self.projector is not None:
            await self.projector.stop()
        if self.services is not None:
            await self.services.close()


@dataclass(frozen=True)
class ScaleRun:
    """What one load over the edges did."""

    figures: SoakFigures
    calls: tuple[PlacedCall, ...]
    span_s: float  # first ring to the last call's first page (or the end of the wait)
    by_edge: dict[str, int]  # calls answered by each edge's address
    reordered: tuple[str, ...]  # clients whose calls reached the log out of order

    @property
    def pages_per_s(self) -> float:
        return self.figures.first_paged / self.span_s if self.span_s else 0.0


class Ringer:
    """Signed voice webhooks, as Twilio sends them, to one edge after the other."""

    def __init__(self, stack: Stack, edges: Sequence[str]) -> None:
        s = stack.settings
        self._public = f"{s.public_base_url}{VOICE_PATH}"
        self._token = s.twilio_auth_token.get_secret_value()
        self._account = s.twilio_account_sid
        self._line = s.crisis_line_number
        self._edges = list(edges)
        self._http = aiohttp.ClientSession()

    async def ring(self, i: int, caller: str, call_sid: str) -> tuple[str, Answer]:
        form = {
            "AccountSid": self._account,
            "ApiVersion": "2010-04-01",
            "From": caller,
            "Caller": caller,
            "To": self._line,
            "Called": self._line,
            "CallSid": call_sid,
            "CallStatus": "ringing",
            "Direction": "inbound",
        }
        edge = self._edges[i % len(self._edges)]
        headers = {"X-Twilio-Signature": sign(self._public, form, self._token)}
        try:
            async with self._http.post(f"{edge}{VOICE_PATH}", data=form, headers=headers) as r:
                return edge, Answer(r.status, await r.text())
        except Exception as exc:  # the caller's phone sees a failed call
            return edge, Answer(None, f"{type(exc).__name__}: {exc}"[:200])

    async def close(self) -> None:
        await self._http.close()


async def spread_calls(
    stack: Stack,
    edges: Sequence[str],
    *,
    calls: int,
    rate: float,
    tag: str,
    settle_s: float = 60.0,
) -> ScaleRun:
    """`calls` crisis calls from the demo team's clients at `rate` per second, call i to edge
    i mod len(edges); each client's calls one after the other (the next rings once the last
    was answered), so their order is known. Waits up to `settle_s` for every first page."""
    ringer = Ringer(stack, edges)
    clients = list(CLIENT_PHONES.values())
    turn = {phone: asyncio.Lock() for phone in clients}
    answered_by: dict[str, int] = defaultdict(int)

    async def one(i: int) -> PlacedCall:
        phone = clients[i % len(clients)]
        sid = f"CA{tag}{i:0{32 - len(tag)}x}"
        async with turn[phone]:  # the client's previous call has been answered
            placed = time.time()
            edge, answer = await ringer.ring(i, phone, sid)
        answered_by[edge] += 1
        return PlacedCall(sid, expected_code(sid), Caller(phone, "client"), placed, answer)

    started = time.monotonic()
    tasks = []
    try:
        for i in range(calls):
            await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
            tasks.append(asyncio.create_task(one(i)))
        placed = tuple(await asyncio.gather(*tasks))
    finally:
        await ringer.close()
    return await _observe(stack, placed, dict(answered_by), settle_s=settle_s)


async def _observe(
    stack: Stack, placed: tuple[PlacedCall, ...], by_edge: dict[str, int], *, settle_s: float
) -> ScaleRun:
    phones = SandboxPhones(stack.settings.twilio_api_base_url)
    try:
        seen = await Observer(phones, stack.read_models, TEAM_ID).settle(
            [c.code for c in placed], timeout_s=settle_s, grace_s=2.0
        )
    finally:
        await phones.close()
    facts = SoakFacts(
        calls=placed,
        dispatch_codes=seen.dispatch_codes,
        read_model_error=seen.read_model_error,
        pages=seen.pages,
        observed_at=seen.observed_at,
        restarts=None,
    )
    first_ring = min(c.placed_at for c in placed)
    paged = {p.code: p.arrived_at for p in sorted(seen.pages, key=lambda p: -p.arrived_at)}
    last = max((paged[c.code] for c in placed if c.code in paged), default=seen.observed_at)
    return ScaleRun(
        figures=figures(facts),
        calls=placed,
        span_s=max(0.0, last - first_ring),
        by_edge=by_edge,
        reordered=await reordered_clients(stack, placed),
    )


async def reordered_clients(stack: Stack, placed: Sequence[PlacedCall]) -> tuple[str, ...]:
    """Clients whose calls are not in the log (as archived, per partition in offset order)
    in the order they were placed."""
    await stack.projector.wait_until_caught_up(timeout=30)
    rows = await stack.pool.fetch(
        """SELECT payload->>'call_sid' AS sid FROM event_archive
           WHERE type = 'CrisisCallReceived' AND payload->>'call_sid' = ANY($1::text[])
           ORDER BY partition, "offset"
        """,
        [c.call_sid for c in placed],
    )
    logged = [r["sid"] for r in rows]
    caller_of = {c.call_sid: c.caller.number for c in placed}
    wrong = []
    for phone in {c.caller.number for c in placed}:
        mine = sorted((c for c in placed if c.caller.number == phone), key=lambda c: c.placed_at)
        got = [sid for sid in logged if caller_of[sid] == phone]
        if [c.call_sid for c in mine if c.call_sid in got] != got:
            wrong.append(phone)
    return tuple(sorted(wrong))


async def workers_consuming(stack: Stack) -> bool:
    """Every worker's heartbeat names partitions of its own, none owned twice."""
    ids = [f"{socket.gethostname()}:{w.pid}" for w in stack.workers]
    rows = await stack.pool.fetch(
        "SELECT worker_id, assignment FROM worker_heartbeats WHERE worker_id = ANY($1::text[])",
        ids,
    )
    owned = [set(r["assignment"]) for r in rows if r["assignment"]]
    every = [tp for assignment in owned for tp in assignment]
    return len(owned) == len(ids) and len(every) == len(set(every))


async def until_workers_consuming(stack: Stack, *, within_s: float = 60.0) -> None:
    deadline = time.monotonic() + within_s
    while not await workers_consuming(stack):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(stack.workers)} workers not all consuming in {within_s} s")
        await asyncio.sleep(0.2)
