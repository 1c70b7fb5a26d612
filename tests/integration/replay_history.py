"""Generated histories for replay tests, the report's scenario and the replay benchmark.

`history(shape)` builds, from a seed, the events a few teams would have published: rosters
and rotas, clients' journeys (referral, enrolment, carers and consent, plans, contacts, risk
changes, open work, hospital stays, transfers, discharges), and crisis incidents with their
pages, delivery reports, escalations, replies and follow-ups, in the order each key's stream
would hold them. `delivered(...)` gives them Kafka positions: one topic per event type
(infra/topics.yaml), a partition by key, offsets in order, some events published twice (a
producer's retry), delivery reports sometimes before their PageSent.
"""

from __future__ import annotations

import random
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from dispatch.events import Envelope, new_event
from dispatch.events.envelope import EventPayload
from dispatch.topics import topic_for_event
from projections.project import Position
from tests.integration import replay_incidents as incidents
from tests.integration import replay_people as people

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday


@dataclass(frozen=True)
class Shape:
    seed: int = 0
    teams: int = 2
    staff_per_team: int = 4
    clients_per_team: int = 5
    incidents: int = 60
    episodes: int = 120  # client episodes: signals, contacts, risk, hospital, journey moves
    days: float = 14.0  # how much event time the history spans
    duplicates: float = 0.02  # share of events published twice
    partitions: int = 3
    number: int = 0  # tells apart the ids and phones of histories written side by side


@dataclass
class Writer:
    """Appends events with ids drawn from the seed (a history is the same on every run)."""

    rnd: random.Random
    events: list[Envelope] = field(default_factory=list)

    def add(
        self,
        payload: EventPayload,
        key: str,
        at: datetime,
        *,
        cause: Envelope | None = None,
        lag_s: float = 0.2,
        actor: str = "generated",
        correlation: uuid.UUID | None = None,
    ) -> Envelope:
        event = new_event(
            payload,
            key=key,
            occurred_at=at,
            recorded_at=at + timedelta(seconds=lag_s),
            actor=actor,
            cause=cause,
            event_id=self.uuid(),
            correlation_id=correlation,
        )
        self.events.append(event)
        return event

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rnd.getrandbits(128), version=4)


def history(shape: Shape) -> list[Envelope]:
    """Every event of the generated history, in the order it was published."""
    w = Writer(random.Random(shape.seed))
    teams = [people.team(w, shape, i, T0) for i in range(shape.teams)]
    span = timedelta(days=shape.days)
    plan: list[tuple[datetime, str]] = [
        *((T0 + span * w.rnd.random(), "incident") for _ in range(shape.incidents)),
        *((T0 + span * w.rnd.random(), "episode") for _ in range(shape.episodes)),
        *((T0 + timedelta(days=d, hours=9), "meeting") for d in range(int(shape.days))),
    ]
    for at, what in sorted(plan):
        team = w.rnd.choice(teams)
        if what == "incident":
            incidents.incident(w, team, at)
        elif what == "episode":
            people.episode(w, team, teams, at)
        else:
            people.meeting(w, team, at)
    return w.events


def partition_of(key: str, partitions: int) -> int:
    return zlib.crc32(key.encode()) % partitions


def delivered(events: list[Envelope], shape: Shape) -> list[tuple[Envelope, Position]]:
    """Each event at its Kafka position, in the order a projector reading the partitions
    round-robin in batches of random size would apply them (duplicates included)."""
    rnd = random.Random(shape.seed + 1)
    logs: dict[tuple[str, int], list[Envelope]] = {}
    for event in events:
        log = logs.setdefault(
            (topic_for_event(event.type), partition_of(event.key, shape.partitions)), []
        )
        log.append(event)
        if rnd.random() < shape.duplicates:
            log.append(event)
    positioned = {
        tp: [(e, Position(tp[0], tp[1], offset)) for offset, e in enumerate(log)]
        for tp, log in logs.items()
    }
    out: list[tuple[Envelope, Position]] = []
    queues = [q for _, q in sorted(positioned.items())]
    while any(queues):
        queue = rnd.choice([q for q in queues if q])
        take = rnd.randint(1, 40)
        out += queue[:take]
        del queue[:take]
    return out
