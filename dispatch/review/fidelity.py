"""Fidelity figures after the Dartmouth ACT Fidelity Scale (DACTS), for any window.

Each item carries its figure, its 1-5 rating and the anchor the rating used. Only anchors
checked against the published scale are used (docs/fidelity.md names the source); an item
whose anchors could not be checked gets its figure and no rating, and says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from dispatch.review.facts import Archived, ReviewModel, event_time_order
from dispatch.review.roster import Members
from dispatch.rota.state import TeamRota
from dispatch.rota.timeline import segments

SOURCE = (
    "ACT Fidelity Scale, Maine Administrative Code 14-193 ch. 2, Appendix 193-2-A (the "
    "SAMHSA ACT Fidelity Scale: the DACTS of Teague, Bond & Drake 1998, minor modifications)"
)
UNVERIFIED = "anchors not verified against the published scale: no rating given"
TEAM_APPROACH_PERIOD = timedelta(days=14)
MONTH = timedelta(days=30.4375)
# (bound, rating, anchor text), best rating first. H1: the figure is at most the bound;
# the others: the figure is at least the bound.
Anchors = tuple[tuple[float, int, str], ...]
H1_ANCHORS: Anchors = (
    (10, 5, "5: 10 clients per staff member or fewer"),
    (20, 4, "4: 11-20"),
    (34, 3, "3: 21-34"),
    (49, 2, "2: 35-49"),
    (float("inf"), 1, "1: 50 or more"),
)
H2_ANCHORS: Anchors = (
    (90, 5, "5: 90% or more of clients see more than one staff member face to face in 2 weeks"),
    (64, 4, "4: 64-89%"),
    (37, 3, "3: 37-63%"),
    (10, 2, "2: 10-36%"),
    (float("-inf"), 1, "1: less than 10%"),
)
H3_ANCHORS: Anchors = (
    (4, 5, "5: meets at least 4 days a week"),
    (2, 4, "4: at least twice a week but less than 4 times"),
    (1, 3, "3: at least once a week but less than twice"),
    (2 * 7 / 30.4375, 2, "2: at least twice a month but less than once a week"),
    (float("-inf"), 1, "1: once a month or less"),
)


class FidelityItem(ReviewModel):
    code: str
    name: str
    figure: float | None
    unit: str
    rating: int | None
    anchor: str
    note: str = ""


class Fidelity(ReviewModel):
    team_id: str
    start: datetime
    end: datetime
    source: str
    items: tuple[FidelityItem, ...]


def rate(figure: float, anchors: Anchors) -> tuple[int, str]:
    """The rating of the first anchor whose bound the figure reaches (at least the bound)."""
    return next((r, text) for low, r, text in anchors if figure >= low)


def rate_h1(clients_per_staff: float) -> tuple[int, str]:
    """H1 small caseload: the first band whose top the ratio does not pass (10.5 is more
    than 10, so it rates 4)."""
    return next((r, text) for high, r, text in H1_ANCHORS if clients_per_staff <= high)


def rate_h2(percent: float) -> tuple[int, str]:
    """H2 team approach: 89.5% has not reached 90%, so it rates 4."""
    return rate(percent, H2_ANCHORS)


def rate_h3(days_per_week: float) -> tuple[int, str]:
    return rate(days_per_week, H3_ANCHORS)


Rating = Callable[[float], tuple[int, str]]


def _item(code: str, name: str, figure: float | None, unit: str, rating: Rating | None,
          note: str) -> FidelityItem:  # fmt: skip
    if figure is None:
        return FidelityItem(code=code, name=name, figure=None, unit=unit, rating=None,
                            anchor="not recorded: no rating", note=note)  # fmt: skip
    given, anchor = rating(figure) if rating else (None, UNVERIFIED)
    return FidelityItem(code=code, name=name, figure=round(figure, 2), unit=unit, rating=given,
                        anchor=anchor, note=note)  # fmt: skip


def staff_of(contact: Archived) -> set[str]:
    """Everyone on a contact: its staff_id and, when recorded, the others who came."""
    p = contact.payload
    others = p.get("staff_ids") or p.get("other_staff_ids") or ()
    return {str(s) for s in (p.get("staff_id"), *others) if s}


def _in(facts: Sequence[Archived], start: datetime, end: datetime) -> list[Archived]:
    return [f for f in facts if start <= f.occurred_at < end]


def fidelity(
    team_id: str,
    start: datetime,
    end: datetime,
    *,
    members: Members,
    contacts: Sequence[Archived],
    meetings: Sequence[Archived],
    calls: Sequence[Archived],
    rota: TeamRota,
) -> Fidelity:
    """The items over [start, end): H1 at `end`, H2 over the two weeks before `end`, the
    others over the window; per-client figures divide by the caseload at `end`."""
    weeks = (end - start) / timedelta(days=7)
    clients = set(members.clients)
    n = len(clients)
    visits = [c for c in event_time_order(contacts) if c.payload.get("kind") == "face_to_face"]
    window = [v for v in _in(visits, start, end) if v.payload.get("client_id") in clients]
    seen_by: dict[str, set[str]] = {}
    for v in _in(visits, end - TEAM_APPROACH_PERIOD, end):
        seen_by.setdefault(str(v.payload.get("client_id")), set()).update(staff_of(v))
    several = sum(1 for c in clients if len(seen_by.get(c, ())) > 1)
    days = {str(m.payload.get("held_on")) for m in _in(meetings, start, end)}
    own = sum(
        (s.ends_at - s.starts_at).total_seconds()
        for s in segments(rota, "primary", start, end)
        if s.staff_id is not None
    )
    team_calls = _in(calls, start, end)
    put_through = sum(1 for c in team_calls if c.payload.get("dialled_staff_id"))
    placed = [v for v in window if v.payload.get("where")]
    timed = [v for v in window if v.payload.get("minutes") is not None]
    carers_named = [c for c in _in(contacts, start, end) if "carer_id" in c.payload]
    with_carers = [c for c in carers_named if c.payload.get("carer_id")]
    items = (
        _item("H1", "Small caseload", members.clients_per_staff, "clients per staff member",
              rate_h1, f"{n} clients, {len(members.staff)} staff at the window's end"),
        _item("H2", "Team approach", 100 * several / n if n else None,
              "% of clients seen face to face by more than one staff member in 2 weeks", rate_h2,
              f"{several} of {n} clients in the 2 weeks before the window's end"),
        _item("H3", "Program meeting", len(days) / weeks if weeks else None,
              "meeting days per week", rate_h3,
              f"{len(days)} days with a TeamMeetingHeld in {weeks:.1f} weeks"),
        _item("O4", "Responsibility for crisis services",
              100 * own / (end - start).total_seconds(), "% of the window with a team member "
              "on call", None, f"{len(team_calls)} crisis calls on the team's line, "
              f"{put_through} put through to a team member"),
        _item("S1", "Community-based services",
              100 * sum(1 for v in placed if v.payload["where"] != "office") / len(placed)
              if placed else None, "% of face-to-face contacts in the community", None,
              f"{len(placed)} of {len(window)} face-to-face contacts record where"),
        _item("S4", "Intensity of service",
              sum(float(v.payload["minutes"]) for v in timed) / n / weeks
              if timed and n and weeks else None,
              "face-to-face minutes per client per week", None,
              f"{len(timed)} of {len(window)} face-to-face contacts record minutes"),
        _item("S5", "Frequency of contact", len(window) / n / weeks if n and weeks else None,
              "face-to-face contacts per client per week", None,
              f"{len(window)} face-to-face contacts, {n} clients"),
        _item("S6", "Work with support system",
              len(with_carers) / n / ((end - start) / MONTH) if carers_named and n else None,
              "contacts with carers per client per month", None,
              f"{len(with_carers)} contact{'' if len(with_carers) == 1 else 's'} naming a carer"
              if carers_named
              else "no contact in the window records a carer"),
    )  # fmt: skip
    return Fidelity(team_id=team_id, start=start, end=end, source=SOURCE, items=items)
