"""The crisis line's call tree: who a caller is put through to at each step, and what they hear.

Pure. The voice webhook loads the facts (who is on duty, the team's fallback numbers, the
client's preferences), asks `ring` or `after_no_answer`, and renders the answer for the phone.

- The ring: outside its covered hours a team's line is answered by its fallback team when
  that team is covered (one hop, so two teams naming each other never loop). Among the
  answering team's primary and backup, the one the client's preferences pick is dialled
  (`choose`). Nobody on duty: straight to the fallback number.
- Step 1 (the first dial went unanswered): the other person on duty.
- Step 2: the fallback number: the coverage's own (out of hours) first, else the team's.
- Step 3, or no number at step 2: the caller hears when the team will call back and may
  leave a message; the dispatch stays open and escalating.
- A carer is routed exactly like the client, and first hears what the client's consent in
  force lets them be told (`tell_carer`): with `crisis_status` shared, whether the team is
  already responding to a crisis; otherwise that nothing about the client can be shared.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from dispatch.clients.events import ConsentShare
from dispatch.crisis.preferences import Candidate, ClientPreferences, choose

GREETING = "You have reached the crisis line. Connecting you to the on-call worker now."
STILL_CONNECTING = "Still connecting you."
OUT_OF_HOURS = "Connecting you to the out-of-hours crisis service."
NOBODY = (
    "We could not connect you just now. The team has your call and will call you back "
    "within {minutes} minutes. If you are in immediate danger, call 911. "
    "You can leave a message for the team after the tone; press the hash key when done."
)
FALLBACK_STEP = 2
CARER = "You are calling as a carer."
CARER_NO_CONSENT = (
    "We will help you now, but we cannot share information about the person you care for "
    "unless they agree."
)
CARER_CRISIS_OPEN = "The team already knows the person you care for is in crisis and is on it."
CARER_NO_CRISIS_OPEN = "The team had no crisis open for the person you care for; it has now."


class OnCallPerson(Candidate, Protocol):
    """Someone on duty who can be dialled."""

    @property
    def phone(self) -> str: ...


class Cover(Protocol):
    """Who covers a team's line at one instant (the rota read model's answer)."""

    @property
    def primary(self) -> OnCallPerson | None: ...

    @property
    def backup(self) -> OnCallPerson | None: ...

    @property
    def covered(self) -> bool: ...

    @property
    def fallback_team_id(self) -> str | None: ...

    @property
    def fallback_number(self) -> str | None: ...


@dataclass(frozen=True)
class TeamLine:
    """A team's crisis line at one instant: who is on duty, and the team's own fallback number."""

    team_id: str
    on_duty: Cover
    fallback_number: str | None = None


@dataclass(frozen=True)
class Dial:
    """Say `say`, then dial `number`; if nobody answers, the call goes on at `next_step`.

    team_id: the team answering the line. staff_id: who is dialled (None: a fallback number).
    first_dialled: set by the ring only, so that step 1 dials the other person on duty.
    unmet: the client's preferences the dialled person does not meet.
    """

    say: str
    number: str
    team_id: str
    next_step: int
    staff_id: str | None = None
    first_dialled: str | None = None
    unmet: tuple[str, ...] = ()


@dataclass(frozen=True)
class LeaveMessage:
    """Nobody could be reached: say `say`, then record a message for `team_id`."""

    say: str
    team_id: str


CallStep = Dial | LeaveMessage


def fallback_team_of(line: TeamLine) -> str | None:
    """The team whose rota the ring must also know: the named fallback, out of hours only."""
    return None if line.on_duty.covered else line.on_duty.fallback_team_id


def answering(home: TeamLine, fallback_team: TeamLine | None) -> TeamLine:
    """The line that answers `home`'s calls and texts: its fallback team's out of hours,
    when that team is covered; otherwise `home` itself (its fallback number comes later)."""
    if (
        fallback_team is not None
        and fallback_team.team_id == fallback_team_of(home)
        and fallback_team.on_duty.covered
    ):
        return fallback_team
    return home


def ring(
    home: TeamLine,
    fallback_team: TeamLine | None,
    preferences: ClientPreferences,
    *,
    callback_minutes: int,
) -> CallStep:
    """The first thing a caller hears and who is dialled, as the phone rings."""
    line = answering(home, fallback_team)
    choice = choose([line.on_duty.primary, line.on_duty.backup], preferences)
    person = choice.person
    if person is None:
        return after_no_answer(line, FALLBACK_STEP, callback_minutes=callback_minutes)
    return Dial(
        GREETING,
        person.phone,
        line.team_id,
        next_step=1,
        staff_id=person.staff_id,
        first_dialled=person.staff_id,
        unmet=choice.unmet,
    )


def after_no_answer(
    line: TeamLine, step: int, *, dialled: str | None = None, callback_minutes: int
) -> CallStep:
    """Who is dialled at `step` (the last dial was not answered), or leave a message.

    `dialled` is who rang first; a call from before preferences has none: the primary."""
    on_duty = line.on_duty
    if step == 1:
        if dialled is None:
            dialled = on_duty.primary.staff_id if on_duty.primary else None
        others = [p for p in (on_duty.primary, on_duty.backup) if p and p.staff_id != dialled]
        if others:
            other = others[0]
            return Dial(STILL_CONNECTING, other.phone, line.team_id, 2, staff_id=other.staff_id)
    if step <= FALLBACK_STEP:
        number = on_duty.fallback_number or line.fallback_number
        if number:
            return Dial(OUT_OF_HOURS, number, line.team_id, FALLBACK_STEP + 1)
    return LeaveMessage(NOBODY.format(minutes=callback_minutes), line.team_id)


@dataclass(frozen=True)
class CarerConsentSeen:
    """What the client's consent in force lets a calling carer be told, at the ring."""

    shares: tuple[ConsentShare, ...]
    crisis_open: bool


def carer_message(seen: CarerConsentSeen) -> str:
    """What a carer hears before being connected: the client's crisis status only when the
    client shares it with them; otherwise that nothing can be shared."""
    if "crisis_status" not in seen.shares:
        return f"{CARER} {CARER_NO_CONSENT}"
    return f"{CARER} {CARER_CRISIS_OPEN if seen.crisis_open else CARER_NO_CRISIS_OPEN}"


def tell_carer(step: CallStep, seen: CarerConsentSeen) -> CallStep:
    """The same step (who is dialled does not change), with the carer's message first."""
    return replace(step, say=f"{carer_message(seen)} {step.say}")
