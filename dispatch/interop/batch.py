"""One import's services: the same journey service, carers' intake and roster intake the
commands use, reading the real lookups with the import's own decided events on top, and
recording into the batch instead of the spool. Nothing is recorded until the command has
every row or resource decided (dispatch/commands/imports.py)."""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.clients.intake import CarerLookup
from dispatch.clients.ports import JourneyLookup
from dispatch.clients.service import JourneyService
from dispatch.clock import Clock
from dispatch.events import Envelope
from dispatch.interop.pending import CarerOverlay, JourneyOverlay, Pending, RosterOverlay
from dispatch.rota.staff_intake import RosterLookup

MAX_PROBLEMS = 20  # a file with more bad rows than this is shown its first ones


@dataclass(frozen=True)
class Lookups:
    """What the import's services read (projections implement each)."""

    journey: JourneyLookup
    carers: CarerLookup
    roster: RosterLookup
    clock: Clock


@dataclass(frozen=True)
class Planned:
    """What one row or resource will record (`source`: "row 2", "Patient/p1")."""

    source: str
    events: tuple[Envelope, ...]


class ImportRefused(ValueError):
    """The file is not imported, and nothing is recorded: each problem names where."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class Batch:
    def __init__(self, lookups: Lookups) -> None:
        self.pending = Pending()
        self.now = lookups.clock.now()
        overlay = JourneyOverlay(lookups.journey, self.pending)
        self.journey = JourneyService(overlay, self.pending, lookups.clock)
        self.carers = CarerOverlay(lookups.carers, overlay, self.pending)
        self.roster = RosterOverlay(lookups.roster, self.pending)
