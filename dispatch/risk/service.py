"""The risk engine: fold one event, look up the rota only if someone must be paged, decide
(level changes and their actions, then the open work the event closed). `handle_many` does
the same for a batch of events in order, with one clock reading and at most one rota lookup
per team for the whole batch."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dispatch.clock import Clock
from dispatch.crisis.decide import Responder
from dispatch.crisis.service import RotaLookup
from dispatch.events import Envelope
from dispatch.risk.decide import decide, needs_responder
from dispatch.risk.fold import RiskState, evolve
from dispatch.risk.followups import closures
from dispatch.risk.levels import DEFAULT_POLICY, RiskPolicy


class RiskEngine:
    def __init__(self, rota: RotaLookup, clock: Clock, policy: RiskPolicy = DEFAULT_POLICY) -> None:
        self._rota = rota
        self._clock = clock
        self._policy = policy

    async def handle(
        self, before: RiskState, event: Envelope, *, offset: int | None = None
    ) -> tuple[RiskState, list[Envelope]]:
        """The client's new state and the events to append (none when nothing moved)."""
        after = evolve(before, event, self._policy, offset=offset)
        if after is before:
            return before, []
        now = self._clock.now()
        responder: Responder | None = None
        if needs_responder(before, after) and after.team_id:
            # Whoever is on duty now does the visit or takes the page.
            responder = await self._rota.responder(after.team_id, now)
        decided = decide(before, after, event, responder=responder, now=now, policy=self._policy)
        return after, decided + closures(before, after, event, now=now)

    async def handle_many(
        self, items: Sequence[tuple[Envelope, int]], load: Callable[[str], RiskState]
    ) -> tuple[dict[str, RiskState], list[Envelope]]:
        """Fold a batch of (event, offset) in order, each client's state loaded once by key;
        returns the states that moved (by key) and every decided event, in order."""
        now = self._clock.now()
        on_duty: dict[str, Responder | None] = {}  # by team, for this batch
        states: dict[str, RiskState] = {}
        decided: list[Envelope] = []
        for event, offset in items:
            key = event.key
            before = states[key] if key in states else load(key)
            after = evolve(before, event, self._policy, offset=offset)
            if after is before:
                continue
            states[key] = after
            responder: Responder | None = None
            if needs_responder(before, after) and after.team_id:
                team = after.team_id
                if team not in on_duty:  # whoever is on duty now does the visit or takes the page
                    on_duty[team] = await self._rota.responder(team, now)
                responder = on_duty[team]
            policy = self._policy
            decided += decide(before, after, event, responder=responder, now=now, policy=policy)
            decided += closures(before, after, event, now=now)
        return states, decided
