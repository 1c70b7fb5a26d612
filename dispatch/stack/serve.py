"""`dispatch up`: the supervised stack, run until SIGTERM or SIGINT.

Either signal (systemd and container runtimes send SIGTERM; a terminal's Ctrl-C is SIGINT)
stops the supervisor, then every part in reverse start order, each child through its
process group, and `dispatch up` exits 0. A signal during the start cancels the start,
which stops what had been started. A second signal while stopping changes nothing: the
stop is already bounded (each child is killed after its own timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable

import structlog

from dispatch.settings import Settings
from dispatch.stack.runtime import Stack

log = structlog.get_logger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


async def seed_if_empty(stack: Stack) -> bool:
    """Load the demo team when nothing was ever recorded (a new STATE_DIR); True if done."""
    from dispatch.demo.scenario import seed

    if await stack.pool.fetchval("SELECT EXISTS (SELECT 1 FROM event_archive)"):
        return False
    await seed(stack, stack.clock.now())
    return True


async def serve(
    settings: Settings,
    *,
    seed: bool,
    with_worker: bool,
    announce: Callable[[Stack], None],
) -> None:
    """Start the supervised stack, wait for SIGTERM or SIGINT, stop everything."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()

    def on_signal(sig: signal.Signals) -> None:
        log.info("stack_stop_requested", signal=sig.name, already=stopping.is_set())
        stopping.set()

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, on_signal, sig)
    stack = Stack(settings, supervise=True, sandbox_process=True)
    try:
        starting = asyncio.create_task(_start(stack, seed=seed, with_worker=with_worker))
        waiting = asyncio.create_task(stopping.wait())
        await asyncio.wait({starting, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():  # signalled while starting: the start stops what it began
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
            return
        waiting.cancel()
        starting.result()  # a failed start has stopped what it began; its error goes up
        announce(stack)
        await stopping.wait()
        await stack.stop()
        log.info("stack_stopped")
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)


async def _start(stack: Stack, *, seed: bool, with_worker: bool) -> None:
    await stack.start(with_worker=with_worker)
    try:
        if seed:
            await seed_if_empty(stack)
    except BaseException:
        await stack.stop()
        raise
