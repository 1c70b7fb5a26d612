"""`dispatch rota load`'s path (parse -> checks against the recorded roster -> to_events),
which the demo's team takes too: a leaver in the file is refused naming the entry, anyone
else loads as the file says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml

from dispatch.demo.seed import STAFF, TEAM_ID, load_team, rota_document, rota_file, seed_events
from dispatch.events import Envelope, new_event
from dispatch.rota.checks import RotaRefused
from dispatch.rota.events import OverrideScheduled, StaffLeft
from dispatch.rota.loading import load_changes
from dispatch.rota.rotafile import export, parse, to_events
from dispatch.rota.staff_intake import StaffPerson
from dispatch.rota.state import Entry, TeamRota, fold

NOW = datetime(2026, 3, 5, 15, tzinfo=UTC)
LINE = "+15005550001"


class Recorded:
    """The roster as folded from recorded events (the read model's answers, in memory)."""

    def __init__(self, events: list[Envelope]) -> None:
        self.events = events

    async def team_rota(self, team_id: str, start: datetime, end: datetime) -> TeamRota:
        return fold(self.events).team(team_id)

    async def staff(self, staff_id: str) -> StaffPerson | None:
        raise NotImplementedError

    async def phone_holder(self, phone: str, at: datetime) -> StaffPerson | None:
        raise NotImplementedError

    async def override_entry(
        self, team_id: str, override_id: str
    ) -> Entry[OverrideScheduled] | None:
        raise NotImplementedError


def _left(staff_id: str, at: datetime) -> Envelope:
    left = StaffLeft(staff_id=staff_id, team_id=TEAM_ID, left_at=at, reason="moved")
    earlier = NOW - timedelta(days=2)
    return new_event(left, key=TEAM_ID, occurred_at=earlier, recorded_at=earlier, actor="test")


async def test_a_new_team_loads_exactly_the_files_events() -> None:
    loaded = await load_team(Recorded([]), NOW, LINE)
    assert loaded == seed_events(NOW, LINE)
    assert [e.type for e in loaded][:2] == ["TeamFormed", "CoverageSet"]
    assert sum(e.type == "StaffRegistered" for e in loaded) == len(STAFF)
    assert all(e.actor == "s-lead" for e in loaded)


async def test_a_leaver_named_by_the_file_is_refused_naming_the_entry() -> None:
    """The third staff entry left yesterday: refused as staff[2].id (409), nothing made."""
    recorded = [*seed_events(NOW - timedelta(days=3), LINE), _left("s-psych", NOW - timedelta(1))]
    with pytest.raises(RotaRefused) as refused:
        await load_team(Recorded(recorded), NOW, LINE)
    problem = refused.value.problem
    assert (problem.field, problem.status) == ("staff[2].id", 409)
    assert "'s-psych' left the team" in problem.message
    assert "dispatch staff join" in problem.message


async def test_someone_leaving_later_still_loads() -> None:
    """A departure planned for next week does not stop today's load."""
    recorded = [*seed_events(NOW - timedelta(days=3), LINE), _left("s-psych", NOW + timedelta(7))]
    spec = parse(rota_file(NOW, LINE))
    events = await load_changes(Recorded(recorded), spec, now=NOW, actor="cli:s-lead")
    assert events == to_events(spec, now=NOW, actor="cli:s-lead")


def test_the_demo_team_is_a_rota_file_that_exports_back_to_itself() -> None:
    """What `dispatch rota export` writes for the loaded demo team is the demo's file."""
    rota = fold(seed_events(NOW, LINE)).team(TEAM_ID)
    exported = parse(yaml.safe_dump(export(rota, at=NOW)))
    original = parse(rota_file(NOW, LINE))
    assert (exported.team, exported.coverage) == (original.team, original.coverage)
    for entries in ("staff", "rotations"):  # the same entries; the export orders them by id
        assert sorted(getattr(exported, entries), key=repr) == sorted(
            getattr(original, entries), key=repr
        )
    assert rota_document(NOW, LINE)["team"]["crisis_line_number"] == LINE
