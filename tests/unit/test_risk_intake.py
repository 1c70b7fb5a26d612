"""Recording hospital stays, plans from a file and reads of the board: validation and events."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from dispatch.cli import main
from dispatch.risk.board import render_board
from dispatch.risk.events import (
    ClientRecordsViewed,
    HospitalAdmissionRecorded,
    HospitalDischargeRecorded,
)
from dispatch.risk.intake import (
    SignalRefused,
    hospital_event,
    parse_hospital,
    records_viewed,
)
from dispatch.risk.ports import ClientRef, HuddleRow
from tests.unit.risk_builders import CLIENT, TEAM, at

NOW = at(100)


class Clients:
    async def client(self, client_id: str) -> ClientRef | None:
        return ClientRef(client_id, TEAM) if client_id == CLIENT else None

    async def carer_consents(self, client_id: str, carer_id: str) -> bool | None:
        return None


async def _stay(kind: str, body: dict[str, object], team: str | None = TEAM):  # type: ignore[no-untyped-def]
    return await hospital_event(
        Clients(),
        client_id=CLIENT,
        kind=kind,  # type: ignore[arg-type]
        stay=parse_hospital(body),
        team_id=team,
        recorded_by="api:team_lead",
        now=NOW,
    )


async def test_admission_and_discharge_become_their_events_with_derived_ids() -> None:
    """Admission and discharge are their own events, dated when they happened (default now);
    the same report twice is one event."""
    admitted = await _stay("admission", {"facility": "St Anne's ward 3"})
    discharged = await _stay("discharge", {"occurred_at": at(90).isoformat()})
    assert isinstance(admitted.payload, HospitalAdmissionRecorded)
    assert admitted.payload.facility == "St Anne's ward 3" and admitted.occurred_at == NOW
    assert isinstance(discharged.payload, HospitalDischargeRecorded)
    assert discharged.occurred_at == at(90) and discharged.key == CLIENT
    assert (await _stay("admission", {"facility": "x"})).event_id == admitted.event_id


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"occurred_at": "yesterday"}, "occurred_at", 400),
        ({"occurred_at": "2026-11-02T09:00"}, "occurred_at", 400),  # no zone
        ({"ward": "3"}, "ward", 400),
        ({"facility": "x" * 121}, "facility", 400),
        ({"occurred_at": at(101).isoformat()}, "occurred_at", 400),  # in the future
    ],
)
async def test_bad_hospital_reports_are_refused_naming_the_field(
    body: dict[str, object], field: str, status: int
) -> None:
    """A bad date, unknown field, overlong facility or a future date: refused, no event."""
    with pytest.raises(SignalRefused) as refused:
        await _stay("admission", body)
    assert (refused.value.field, refused.value.status) == (field, status)


async def test_another_teams_client_is_not_found() -> None:
    """A hospital report about another team's client is a 404 on client_id."""
    with pytest.raises(SignalRefused) as refused:
        await _stay("discharge", {}, team="act-south")
    assert (refused.value.field, refused.value.status) == ("client_id", 404)


def test_each_read_of_the_board_is_its_own_audit_event() -> None:
    """A read names the team, the viewer and every client shown; two reads, two events."""
    first = records_viewed(
        team_id=TEAM,
        viewer="api:team_lead:s-lead",
        view="huddle_board",
        client_ids=["c-1"],
        now=NOW,
    )
    second = records_viewed(
        team_id=TEAM,
        viewer="api:team_lead:s-lead",
        view="huddle_board",
        client_ids=["c-1"],
        now=NOW,
    )
    assert isinstance(first.payload, ClientRecordsViewed) and first.key == TEAM
    assert first.payload.client_ids == ("c-1",) and first.event_id != second.event_id


def test_a_bad_plan_file_is_refused_naming_the_field(tmp_path: Path) -> None:
    """`dispatch plan --file` with a weight out of range exits 2 naming the field, before
    connecting anywhere."""
    bad = tmp_path / "plan.yaml"
    bad.write_text(
        "warning_signs:\n  - sign: sleep_loss\n    weight: 9\n"
        "actions:\n  - contact: sister\n    offer: visit\n"
    )
    result = CliRunner().invoke(main, ["plan", "c-1", "--file", str(bad)])
    assert result.exit_code == 2 and "warning_signs.0.weight" in result.output
    unreadable = tmp_path / "broken.yaml"
    unreadable.write_text("warning_signs: [unclosed\n")
    result = CliRunner().invoke(main, ["plan", "c-1", "--file", str(unreadable)])
    assert result.exit_code == 2 and "--file" in result.output


def test_a_bad_hospital_date_on_the_command_line_names_the_field() -> None:
    """`dispatch hospital admit --at` with no time zone exits 2 naming occurred_at."""
    result = CliRunner().invoke(main, ["hospital", "admit", "c-1", "--at", "2026-11-02T09:00"])
    assert result.exit_code == 2 and "occurred_at" in result.output


def test_the_board_text_shows_each_clients_contact_target() -> None:
    """The huddle text puts the client's contact target beside their last visit."""
    row = HuddleRow(
        client_id=CLIENT,
        display_name="C 77",
        level="stable",
        score=0.0,
        reasons=(),
        level_changed_at=None,
        last_contact_at=None,
        last_face_to_face_at=at(90),
        open_dispatches=(),
        outreach_due=(),
        plan_review_due=at(80),
        plan_review_overdue=True,
        missed_contact_since=None,
        changes_24h=("2026-11-06 12:00Z plan review overdue (plan agreed 2026-05-08)",),
        contact_target_days=7.0,
    )
    text = render_board(TEAM, [row], NOW)
    assert "last face-to-face 10 h ago (target 7 d)" in text and "PLAN REVIEW OVERDUE" in text
    assert "24h: 2026-11-06 12:00Z plan review overdue" in text
