"""DACTS ratings at every anchor boundary, and the figures from hand-made events."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from dispatch.clients.events import ContactRecorded
from dispatch.review.fidelity import (
    UNVERIFIED,
    FidelityItem,
    fidelity,
    rate_h1,
    rate_h2,
    rate_h3,
)
from dispatch.review.roster import members_at
from dispatch.review.service import team_rota
from dispatch.team.events import TeamMeetingHeld
from projections.models import ArchivedEvent
from tests.unit.review_builders import (
    BACKUP,
    CLIENT,
    PRIMARY,
    T0,
    TEAM,
    archived,
    event,
    raw,
    team_events,
)


@pytest.mark.parametrize(
    ("ratio", "rating"),
    [(1, 5), (10, 5), (10.5, 4), (11, 4), (20, 4), (20.01, 3), (21, 3), (34, 3), (34.5, 2),
     (35, 2), (49, 2), (49.5, 1), (50, 1), (120, 1)],
)  # fmt: skip
def test_h1_small_caseload_boundaries(ratio: float, rating: int) -> None:
    """5 at 10 clients per staff member or fewer; 4 at 11-20; 3 at 21-34; 2 at 35-49; 1 at
    50+; a ratio above a band's top falls to the next rating."""
    assert rate_h1(ratio)[0] == rating


@pytest.mark.parametrize(
    ("percent", "rating"),
    [(100, 5), (90, 5), (89.99, 4), (64, 4), (63.9, 3), (37, 3), (36.9, 2), (10, 2),
     (9.99, 1), (0, 1)],
)  # fmt: skip
def test_h2_team_approach_boundaries(percent: float, rating: int) -> None:
    """5 at 90%+; 4 at 64-89%; 3 at 37-63%; 2 at 10-36%; 1 below 10%."""
    assert rate_h2(percent)[0] == rating


@pytest.mark.parametrize(
    ("days", "rating"),
    [(7, 5), (4, 5), (3.99, 4), (2, 4), (1.99, 3), (1, 3), (0.99, 2), (2 * 7 / 30.4375, 2),
     (0.45, 1), (0, 1)],
)  # fmt: skip
def test_h3_program_meeting_boundaries(days: float, rating: int) -> None:
    """5 at 4+ meeting days a week; 4 at 2 to under 4; 3 at 1 to under 2; 2 at twice a month
    to under once a week; 1 below."""
    assert rate_h3(days)[0] == rating


def _contact(at_s: float, staff: str, **extra: object):  # type: ignore[no-untyped-def]
    visit = event(ContactRecorded(client_id=CLIENT, staff_id=staff, kind="face_to_face"),
                  CLIENT, T0 - timedelta(seconds=at_s), tag=f"{staff}-{at_s}")  # fmt: skip
    return archived(visit, **extra)


def test_figures_ratings_and_what_is_not_recorded() -> None:
    """Two staff, one client seen by both within 2 weeks, meetings on 8 days of 4 weeks:
    H1 0.5 (5), H2 100% (5), H3 2 days a week (4); S5 counts the visits; S1/S4 use where and
    minutes only when recorded; items whose anchors are unverified carry no rating."""
    setup = [archived(e) for e in team_events()]
    members = members_at(setup, TEAM, T0)
    contacts = [
        _contact(3600, PRIMARY, where="home", minutes=45),
        _contact(7200, BACKUP),
        _contact(86400 * 20, BACKUP, where="office", minutes=30),
    ]
    meetings = [
        archived(event(TeamMeetingHeld(team_id=TEAM, held_on=(T0 - timedelta(days=d)).date()),
                       TEAM, T0 - timedelta(days=d)))
        for d in range(1, 9)
    ]  # fmt: skip
    start = T0 - timedelta(days=28)
    result = fidelity(TEAM, start, T0, members=members, contacts=contacts, meetings=meetings,
                      calls=[], rota=team_rota(TEAM, setup))  # fmt: skip
    items = {i.code: i for i in result.items}
    assert (items["H1"].figure, items["H1"].rating) == (0.5, 5)
    assert (items["H2"].figure, items["H2"].rating) == (100.0, 5)
    assert (items["H3"].figure, items["H3"].rating) == (2.0, 4)
    assert items["S5"].figure == 0.75  # 3 visits / 1 client / 4 weeks
    assert items["S1"].figure == 50.0 and items["S1"].note.startswith("2 of 3")
    assert items["S4"].figure == 18.75  # 75 minutes / 1 client / 4 weeks
    assert items["O4"].figure == 100.0
    for code in ("O4", "S1", "S4", "S5", "S6"):
        assert (items[code].rating, items[code].anchor) == (None, UNVERIFIED)
    assert items["S6"].figure == 0.0  # contacts that could name a carer named none


def test_s6_counts_contacts_naming_a_carer_and_older_contacts_are_not_recorded() -> None:
    """One contact with the client's carer in 4 weeks: 1 / 1 client / (28 / 30.4375 months);
    contacts archived before contacts carried a carer leave S6 "not recorded"."""
    setup = [archived(e) for e in team_events()]
    members = members_at(setup, TEAM, T0)
    start = T0 - timedelta(days=28)

    def s6(contacts: list[ArchivedEvent]) -> FidelityItem:
        result = fidelity(TEAM, start, T0, members=members, contacts=contacts, meetings=[],
                          calls=[], rota=team_rota(TEAM, setup))  # fmt: skip
        return next(i for i in result.items if i.code == "S6")

    with_carer = s6([_contact(3600, PRIMARY, carer_id="k-1"), _contact(7200, BACKUP)])
    assert with_carer.figure == round(1 / (28 / 30.4375), 2)
    assert with_carer.note == "1 contact naming a carer"
    older = {k: v for k, v in _contact(3600, PRIMARY).payload.items() if k != "carer_id"}
    legacy = replace(_contact(3600, PRIMARY), payload=older)
    assert (s6([legacy]).figure, s6([legacy]).anchor) == (None, "not recorded: no rating")


def test_a_discharged_client_and_a_leaver_leave_the_caseload() -> None:
    """Journey events another area adds (ClientDischarged, StaffLeft) are read by name."""
    setup = [archived(e) for e in team_events()]
    later = [
        raw("StaffLeft", TEAM, T0 - timedelta(days=2), {"staff_id": BACKUP, "team_id": TEAM}),
        raw("ClientDischarged", CLIENT, T0 - timedelta(days=1), {"client_id": CLIENT}),
    ]
    before = members_at([*setup, *later], TEAM, T0 - timedelta(days=3))
    after = members_at([*setup, *later], TEAM, T0)
    assert (before.clients, before.staff) == ((CLIENT,), (BACKUP, PRIMARY))
    assert (after.clients, after.staff) == ((), (PRIMARY,))


def test_a_re_referral_and_a_completed_transfer_put_the_client_on_a_caseload() -> None:
    """Back after a discharge (ClientReReferred): on the team again; moved by a completed
    transfer: on the new team's caseload, off the old team's."""
    setup = [archived(e) for e in team_events()]
    day = timedelta(days=1)
    later = [
        raw("ClientDischarged", CLIENT, T0 - 4 * day, {"client_id": CLIENT, "team_id": TEAM}),
        raw("ClientReReferred", CLIENT, T0 - 3 * day, {"client_id": CLIENT, "team_id": TEAM}),
        raw("TransferCompleted", CLIENT, T0 - day,
            {"client_id": CLIENT, "from_team_id": TEAM, "to_team_id": "act-elsewhere"}),
    ]  # fmt: skip
    facts = [*setup, *later]
    assert members_at(facts, TEAM, T0 - 3.5 * day).clients == ()
    assert members_at(facts, TEAM, T0 - 2 * day).clients == (CLIENT,)
    assert members_at(facts, TEAM, T0).clients == ()
    assert members_at(facts, "act-elsewhere", T0).clients == (CLIENT,)
