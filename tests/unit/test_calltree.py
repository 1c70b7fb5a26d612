"""The crisis line's call tree: who a caller is put through to at each step, and what they hear."""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.crisis import calltree
from dispatch.crisis.calltree import Dial, LeaveMessage, TeamLine, after_no_answer, ring
from dispatch.crisis.preferences import NO_PREFERENCE, ClientPreferences


@dataclass(frozen=True)
class Person:
    staff_id: str
    phone: str
    gender: str = "male"
    languages: tuple[str, ...] = ("en",)


@dataclass(frozen=True)
class Cover:
    primary: Person | None = None
    backup: Person | None = None
    covered: bool = True
    fallback_team_id: str | None = None
    fallback_number: str | None = None


PRIMARY = Person("s-p", "+15550100001")
BACKUP = Person("s-b", "+15550100002", gender="female", languages=("en", "es"))
NORTH_PRIMARY = Person("s-n", "+15550100009")
TEAM_NUMBER = "+15550009999"
CRISIS_SERVICE = "+18005550100"
WEST = TeamLine("west", Cover(PRIMARY, BACKUP), TEAM_NUMBER)
CLOSED_WEST = TeamLine("west", Cover(covered=False, fallback_team_id="north"), TEAM_NUMBER)
NORTH = TeamLine("north", Cover(NORTH_PRIMARY), "+15550008888")
MINUTES = 15


def first_ring(
    home: TeamLine = WEST,
    fallback_team: TeamLine | None = None,
    prefs: ClientPreferences = NO_PREFERENCE,
) -> calltree.CallStep:
    return ring(home, fallback_team, prefs, callback_minutes=MINUTES)


def test_the_ring_dials_the_primary_with_the_greeting() -> None:
    """Without preferences the caller hears the greeting and the primary is dialled."""
    assert first_ring() == Dial(
        calltree.GREETING,
        PRIMARY.phone,
        "west",
        next_step=1,
        staff_id="s-p",
        first_dialled="s-p",
    )


def test_a_gender_preference_dials_the_backup() -> None:
    """A client preferring a female worker, male primary: the female backup is dialled."""
    step = first_ring(prefs=ClientPreferences(gender="female"))
    assert isinstance(step, Dial)
    assert (step.number, step.staff_id, step.first_dialled, step.unmet) == (
        BACKUP.phone,
        "s-b",
        "s-b",
        (),
    )


def test_a_language_preference_dials_the_backup() -> None:
    """A Spanish-speaking client reaches the backup who speaks Spanish."""
    step = first_ring(prefs=ClientPreferences(language="es-MX"))
    assert isinstance(step, Dial) and step.staff_id == "s-b"


def test_an_unmet_preference_dials_the_primary_and_says_what_is_unmet() -> None:
    """Nobody matching: the primary is dialled and the unmet preference is reported."""
    step = first_ring(prefs=ClientPreferences(gender="nonbinary"))
    assert isinstance(step, Dial)
    assert (step.staff_id, step.unmet) == ("s-p", ("NB worker",))


def test_no_answer_from_the_primary_dials_the_backup() -> None:
    """Step 1 after the primary rang out: "still connecting", the backup, then step 2."""
    step = after_no_answer(WEST, 1, dialled="s-p", callback_minutes=MINUTES)
    assert step == Dial(calltree.STILL_CONNECTING, BACKUP.phone, "west", 2, staff_id="s-b")


def test_no_answer_from_the_preferred_backup_dials_the_primary() -> None:
    """Step 1 after the preferred backup rang out dials the primary, not her again."""
    step = after_no_answer(WEST, 1, dialled="s-b", callback_minutes=MINUTES)
    assert isinstance(step, Dial) and step.number == PRIMARY.phone


def test_a_callback_from_before_preferences_means_the_primary_rang_first() -> None:
    """Step 1 with no record of who rang first dials the backup."""
    step = after_no_answer(WEST, 1, callback_minutes=MINUTES)
    assert isinstance(step, Dial) and step.staff_id == "s-b"


def test_nobody_else_on_duty_at_step_1_goes_to_the_fallback_number() -> None:
    """With only a primary on duty, step 1 dials the team's fallback number."""
    line = TeamLine("west", Cover(PRIMARY), TEAM_NUMBER)
    step = after_no_answer(line, 1, dialled="s-p", callback_minutes=MINUTES)
    assert step == Dial(calltree.OUT_OF_HOURS, TEAM_NUMBER, "west", 3)


def test_no_answer_from_the_backup_dials_the_teams_fallback_number() -> None:
    """Step 2: the caller hears they are put through to the out-of-hours service."""
    step = after_no_answer(WEST, 2, callback_minutes=MINUTES)
    assert step == Dial(calltree.OUT_OF_HOURS, TEAM_NUMBER, "west", 3)


def test_out_of_hours_the_covered_fallback_team_answers() -> None:
    """Outside its hours a team's call goes to its fallback team's on-duty worker."""
    step = first_ring(CLOSED_WEST, NORTH)
    assert isinstance(step, Dial)
    assert (step.team_id, step.staff_id, step.number) == ("north", "s-n", NORTH_PRIMARY.phone)
    assert calltree.fallback_team_of(CLOSED_WEST) == "north"
    assert calltree.fallback_team_of(WEST) is None


def test_a_fallback_team_itself_out_of_hours_does_not_answer() -> None:
    """The hop is one step: a fallback team that is not covered leaves the call home,
    where the team's own fallback number is dialled."""
    closed_north = TeamLine("north", Cover(covered=False, fallback_team_id="west"), None)
    step = first_ring(CLOSED_WEST, closed_north)
    assert step == Dial(calltree.OUT_OF_HOURS, TEAM_NUMBER, "west", 3)


def test_out_of_hours_an_external_crisis_line_is_dialled_first() -> None:
    """A coverage naming an external number: that number, before the team's own."""
    line = TeamLine("east", Cover(covered=False, fallback_number=CRISIS_SERVICE), TEAM_NUMBER)
    step = first_ring(line)
    assert step == Dial(calltree.OUT_OF_HOURS, CRISIS_SERVICE, "east", 3)


def test_nobody_reachable_leaves_a_message_with_the_call_back_promise() -> None:
    """After the fallback number rang out the caller hears when the team will call back."""
    step = after_no_answer(WEST, 3, callback_minutes=MINUTES)
    assert isinstance(step, LeaveMessage) and step.team_id == "west"
    assert "within 15 minutes" in step.say and "911" in step.say


def test_nobody_on_duty_and_no_number_leaves_a_message_at_once() -> None:
    """No one on duty and no fallback number: the ring goes straight to the message."""
    step = first_ring(TeamLine("west", Cover(), None))
    assert step == LeaveMessage(calltree.NOBODY.format(minutes=MINUTES), "west")
