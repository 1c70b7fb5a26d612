"""Rota files: validation names the bad field, loading and exporting round-trip."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from dispatch.cli import main
from dispatch.rota.events import CoverageSet, RotationDefined
from dispatch.rota.oncall import on_call
from dispatch.rota.rotafile import RotaFileError, export, parse, to_events
from dispatch.rota.state import fold

GOOD: dict[str, Any] = {
    "team": {
        "id": "icm-east",
        "name": "ICM East",
        "service_model": "ICM",
        "time_zone": "Europe/London",
        "fallback_number": "+441000000000",
    },
    "coverage": {"fallback_team": "act-north"},
    "staff": [
        {"id": "a", "name": "Nurse", "role": "nurse", "phone": "+441000000001"},
        {"id": "b", "name": "Social worker", "role": "social_worker", "phone": "+441000000002"},
    ],
    "rotations": [
        {
            "id": "day",
            "layer": "primary",
            "period": "weekly",
            "handoff": "09:00",
            "weekday": "monday",
            "participants": ["a", "b"],
            "starts": "2026-03-02T09:00:00+00:00",
        }
    ],
    "overrides": [
        {
            "id": "o1",
            "layer": "primary",
            "staff": "b",
            "starts": "2026-03-03T10:00:00+00:00",
            "ends": "2026-03-03T12:00:00+00:00",
        }
    ],
    "swaps": [],
}
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def with_(path: str, value: Any) -> str:
    """GOOD with one field replaced (dotted path, list indexes as numbers)."""
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    *parents, last = path.split(".")
    node = data
    for p in parents:
        node = node[int(p)] if p.isdigit() else node[p]
    node[int(last) if last.isdigit() else last] = value
    return yaml.safe_dump(data)


def test_good_file_becomes_events_with_icm_hours() -> None:
    """An ICM file with no hours gets 08:00-20:00 and its named fallback team."""
    events = to_events(parse(yaml.safe_dump(GOOD)), now=NOW, actor="test")
    types = [e.type for e in events]
    assert types[:2] == ["TeamFormed", "CoverageSet"] and types.count("StaffRegistered") == 2
    cover = events[1].payload
    assert isinstance(cover, CoverageSet) and not cover.all_day
    assert (cover.opens.hour, cover.closes.hour, cover.fallback_team_id) == (8, 20, "act-north")
    assert {e.key for e in events} == {"icm-east"}
    again = to_events(parse(yaml.safe_dump(GOOD)), now=NOW, actor="test")
    assert [e.event_id for e in again] == [e.event_id for e in events]  # a retry repeats ids


def test_export_round_trips() -> None:
    """Exporting the folded events of a file and loading the export gives the same events."""
    events = to_events(parse(yaml.safe_dump(GOOD)), now=NOW, actor="test")
    exported = export(fold(events).team("icm-east"))
    reloaded = to_events(parse(yaml.safe_dump(exported)), now=NOW, actor="test")
    assert [e.payload for e in reloaded] == [e.payload for e in events]
    rota = fold(reloaded).team("icm-east")
    assert on_call(rota, "primary", datetime(2026, 3, 3, 11, tzinfo=UTC)).staff_id == "b"
    assert isinstance(reloaded[-2].payload, RotationDefined)


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("team.time_zone", "Mars/Olympus", "team.time_zone"),
        ("team.service_model", "XYZ", "team.service_model"),
        ("team.fallback_number", "999", "team.fallback_number"),
        ("staff.1.phone", "not-a-phone", "staff[1].phone"),
        ("rotations.0.participants", ["a", "zed"], "rotations[0].participants"),
        ("rotations.0.handoff", "25:00", "rotations[0].handoff"),
        ("rotations.0.weekday", "funday", "rotations[0].weekday"),
        ("rotations.0.starts", "2026-03-02T09:00:00", "rotations[0].starts"),
        ("overrides.0.ends", "2026-03-03T09:00:00+00:00", "overrides[0]"),
        ("overrides.0.staff", "zed", "overrides[0].staff"),
        ("coverage.hours", "nine-to-five", "coverage.hours"),
        ("coverage.fallback_number", "+441000000009", "coverage"),
        ("staff.0.colour", "blue", "staff[0].colour"),
    ],
)
def test_bad_field_is_named(path: str, value: Any, field: str) -> None:
    """Each kind of bad field is refused with its path in the message."""
    with pytest.raises(RotaFileError, match=r"^" + field.replace("[", r"\[").replace("]", r"\]")):
        parse(with_(path, value))


def test_cli_load_bad_file_names_field_and_publishes_nothing(tmp_path: Path) -> None:
    """`rota load` of a bad file exits non-zero naming the field, before touching Kafka."""
    bad = tmp_path / "rota.yaml"
    bad.write_text(with_("rotations.0.participants", ["a", "zed"]))
    result = CliRunner().invoke(
        main, ["rota", "load", str(bad), "--by", "s-lead"], env={"KAFKA_BOOTSTRAP_SERVERS": ""}
    )
    assert result.exit_code == 2
    assert "rotations[0].participants: unknown staff 'zed'" in result.output
    assert "KAFKA_BOOTSTRAP_SERVERS" not in result.output


def test_cli_load_dry_run_counts_events(tmp_path: Path) -> None:
    """`rota load --dry-run` validates and counts the events without publishing."""
    good = tmp_path / "rota.yaml"
    good.write_text(yaml.safe_dump(GOOD))
    result = CliRunner().invoke(main, ["rota", "load", "--dry-run", str(good)])
    assert result.exit_code == 0, result.output
    assert "would publish 6 events for team icm-east" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--staff", "a", "--from", "2026-03-01T10:00Z"], "--to is required"),
        (["--staff", "a", "--from", "2026-03-01T10:00", "--to", "x"], "no UTC offset"),
        (["--staff", "a", "--from", "2026-03-01T10:00Z", "--to", "2026-03-01T09:00Z"], "--to"),
        (["--layer", "tertiary", "--cancel", "o1"], "--layer"),
    ],
)
def test_cli_override_errors_name_the_option(args: list[str], message: str) -> None:
    """`rota override` refuses a missing, naive or reversed time, naming the option."""
    result = CliRunner().invoke(main, ["rota", "override", "--team", "t", "--by", "s", *args])
    assert result.exit_code == 2 and message in result.output


def test_cli_reads_need_a_database() -> None:
    """`oncall` without DATABASE_URL says which setting to give."""
    result = CliRunner().invoke(main, ["oncall", "--team", "t"], env={"DATABASE_URL": ""})
    assert result.exit_code == 2 and "DATABASE_URL" in result.output
