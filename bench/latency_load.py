"""The caller side of bench_latency: signed crisis calls at a steady rate, in a process of its own.

    python -m bench.latency_load '<json plan>'   # prints one JSON line per call, then "done"

It plays Twilio's ringing request: the form Twilio posts to the voice webhook, signed with
the auth token (X-Twilio-Signature, the SDK's RequestValidator). One aiohttp session
reuses its connections, so the generator costs one POST per call, not a TCP handshake. It
runs in its own process so that its work never shares the stack's event loop (or its GIL).

`--null-server` serves a webhook that answers a fixed TwiML at once, in this process: the
generator measured against it alone is the floor of the webhook figures.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

import aiohttp
from aiohttp import web

from integrations.twilio.signatures import SIGNATURE_HEADER, sign

MAX_IN_FLIGHT = 256
ANSWER_TIMEOUT_S = 15.0  # what Twilio waits for a voice webhook


@dataclass(frozen=True)
class Plan:
    url: str  # the voice webhook, exactly as the stack's PUBLIC_BASE_URL names it
    auth_token: str
    account_sid: str
    lines: list[str]  # crisis lines, one per team; calls go round them
    rate: float
    seconds: float
    seed: int
    caller_prefix: str  # callers are <prefix><6 digits>, a new number for every call


@dataclass(frozen=True)
class Placed:
    call_sid: str
    line: str
    placed_at: float  # epoch seconds, just before the POST
    answer_ms: float  # POST to the whole TwiML read
    status: int  # HTTP status; 0 when no answer (error or timeout)


async def place_calls(plan: Plan) -> list[Placed]:
    """Call i rings at i/rate seconds after the start; returns every call once answered."""
    rng = random.Random(plan.seed)
    total = round(plan.rate * plan.seconds)
    in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
    connector = aiohttp.TCPConnector(limit=MAX_IN_FLIGHT, force_close=False)
    timeout = aiohttp.ClientTimeout(total=ANSWER_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def ring(i: int) -> Placed:
            sid = f"CA{rng.getrandbits(128):032x}"
            line = plan.lines[i % len(plan.lines)]
            caller = f"{plan.caller_prefix}{i:06d}"
            params = {
                "AccountSid": plan.account_sid,
                "ApiVersion": "2010-04-01",
                "CallSid": sid,
                "CallStatus": "ringing",
                "Called": line,
                "Caller": caller,
                "Direction": "inbound",
                "From": caller,
                "To": line,
            }
            headers = {SIGNATURE_HEADER: sign(plan.url, params, plan.auth_token)}
            async with in_flight:
                placed_at, began = time.time(), time.perf_counter()
                try:
                    async with session.post(plan.url, data=params, headers=headers) as response:
                        await response.read()
                        status = response.status
                except (aiohttp.ClientError, TimeoutError):
                    status = 0
                answer_ms = (time.perf_counter() - began) * 1000
            return Placed(sid, line, placed_at, answer_ms, status)

        started = time.monotonic()
        tasks = []
        for i in range(total):
            await asyncio.sleep(max(0.0, started + i / plan.rate - time.monotonic()))
            tasks.append(asyncio.create_task(ring(i)))
        return list(await asyncio.gather(*tasks))


async def _null_server() -> tuple[web.AppRunner, str]:
    async def answer(request: web.Request) -> web.Response:
        await request.post()
        return web.Response(text="<Response><Dial>+15005550009</Dial></Response>")

    app = web.Application()
    app.router.add_post("/twilio/voice", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/twilio/voice"


async def _main(raw: dict[str, Any], null_server: bool) -> None:
    runner = None
    if null_server:
        runner, raw["url"] = await _null_server()
    try:
        placed = await place_calls(Plan(**raw))
    finally:
        if runner is not None:
            await runner.cleanup()
    out = sys.stdout
    for call in placed:
        out.write(json.dumps(asdict(call)) + "\n")
    out.write("done\n")
    out.flush()


if __name__ == "__main__":
    asyncio.run(_main(json.loads(sys.argv[1]), "--null-server" in sys.argv[2:]))
