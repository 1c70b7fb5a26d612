"""A page goes out as soon as the broker has it, from the worker that decided it.

The page topic is the guarantee; it is no longer the only way. When the dispatch agent or
the escalation agent has appended a PageRequested and the broker acknowledged it, the page
is durable: every worker that reads the page topic will deliver it, whatever happens next.
Until decision 049 the worker that decided it then waited for its own consumer's next fetch
of the page topic before the notifier saw it (up to `CONSUMER_FETCH_MAX_WAIT_MS`, 20 ms, on
the embedded broker 8-10 ms on average). Now, when the same worker also reads the page's
partition, it hands the page to its notifier at once:

- Both ways take the same turn per dispatch (`KeyedTurns`, the notifier's), so the pages
  of one dispatch still go one at a time, in order, and never side by side with the same
  page read from the topic.
- Whichever way delivers a page first remembers its id once the outcome (PageSent,
  PageFailed, PageCancelled) is appended and acknowledged; the other way then skips it. The
  ledger's claim (dispatch/paging/ledger.py) still stands between any two sends.
- A page whose partition another worker reads is left to that worker (no two workers race
  for one claim).
- At most `limit` pages go out at once; the next ones wait for a slot, in the order they
  were appended, and only beyond `waiting_max` waiting is a page left to the page topic.
  (Leaving every page over `limit` to the topic made those pages the tail at 100 calls/s:
  the topic's copies of the pages going out at once each hold one of the notifier agent's
  slots until their turn, so it fell behind, and a page left to it waited up to 1.4 s. With
  512 waiting places, a minute at 100 calls/s on a busy machine left 184 pages to the topic,
  sent 41-49 s after their decision while the pages waiting here took at most 7.6 s: the
  topic's way is the guarantee, not a second queue; decision 059.)
- The notifier's log lines of a page say which way it went (`way`: `at_once`, `topic`).
- Anything that goes wrong here (the database, the provider, the outcome's append) is
  logged and left to the page topic, which delivers it with the agent's retries and dead
  letters, as every page was delivered before.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence

import structlog

from dispatch.events import Envelope
from dispatch.worker.batches import InFlight
from dispatch.worker.keyed_turns import KeyedTurns

log = structlog.get_logger(__name__)
PAGE_REQUESTED = "PageRequested"
REMEMBERED = 20_000  # delivered page ids kept: the topic's copy comes within seconds
# Pages waiting for a slot before the next is left to the page topic: a bound on memory
# (a task and its event each, a few KB), far above what a minute's backlog holds.
WAITING_MAX = 8_192


class DeliveredPages:
    """The ids of the pages this worker delivered, the newest `size` of them."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self._ids: OrderedDict[uuid.UUID, None] = OrderedDict()
        self._size = size

    def add(self, event_id: uuid.UUID) -> None:
        self._ids[event_id] = None
        self._ids.move_to_end(event_id)
        while len(self._ids) > self._size:
            self._ids.popitem(last=False)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._ids


class PagesAtOnce:
    """Sends the pages a worker appended without waiting for the page topic (see above).

    deliver: the notifier's delivery of one PageRequested, its outcome appended (the page
    topic's handler, less its guard). owns: does this worker read that page-topic partition?
    """

    def __init__(
        self,
        deliver: Callable[[Envelope], Awaitable[None]],
        owns: Callable[[int], bool],
        turns: KeyedTurns,
        in_flight: InFlight,
        *,
        limit: int,
        waiting_max: int = WAITING_MAX,
    ) -> None:
        self._deliver = deliver
        self._owns = owns
        self._turns = turns
        self._in_flight = in_flight
        self._slots = asyncio.Semaphore(limit)
        self._taken_max = limit + waiting_max  # pages going out, or waiting for a slot
        self._tasks: set[asyncio.Task[None]] = set()
        self.delivered = DeliveredPages()

    def after_append(self, sent: Sequence[tuple[Envelope, int]]) -> None:
        """Start delivering each page just appended (event, its partition) that this worker
        reads, unless too many wait already; the rest are left to the page topic."""
        for event, partition in sent:
            if event.type != PAGE_REQUESTED or not self._owns(partition):
                continue
            if len(self._tasks) >= self._taken_max:
                log.debug("page_left_to_topic", reason="busy", **event.log_context())
                continue
            task = asyncio.create_task(self._send(event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def from_topic(self, event: Envelope) -> None:
        """The page topic's way: deliver it unless this worker already did."""
        await self._once(event, "topic")

    async def _send(self, event: Envelope) -> None:
        context = {**event.log_context(), "way": "at_once"}
        async with self._slots, self._in_flight.busy():
            with structlog.contextvars.bound_contextvars(**context):
                try:
                    await self._once(event, "at_once")
                except Exception as exc:  # the page topic delivers it, with retries
                    error = f"{type(exc).__name__}: {exc}"[:300]
                    log.warning("page_left_to_topic", reason=error)

    async def _once(self, event: Envelope, way: str) -> None:
        """Deliver the page in its dispatch's turn, unless either way already did."""
        async with self._turns.turn(event.key):
            if event.event_id in self.delivered:
                log.debug("page_delivered_already", way=way, **event.log_context())
                return
            with structlog.contextvars.bound_contextvars(way=way):
                await self._deliver(event)
            self.delivered.add(event.event_id)
