"""Client preferences: which on-duty worker a client's crisis call or text goes to.

One pure function, `choose`, used by both edges: the voice webhook dials its answer and the
crisis line pages the same person. Among the on-duty people (primary, then backup) the
first who meets every preference the client set is chosen; if nobody does, the first of
them (the primary) is chosen anyway and the unmet preferences are reported, so the page
can say so. A preference is set when the gender is not "unspecified" and when the language
is neither "en" nor empty.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

NO_GENDER = "unspecified"
DEFAULT_LANGUAGE = "en"
_GENDER_CODES = {"female": "F", "male": "M", "nonbinary": "NB"}
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


class Candidate(Protocol):
    """What the choice needs to know about an on-duty person."""

    @property
    def staff_id(self) -> str: ...

    @property
    def gender(self) -> str: ...

    @property
    def languages(self) -> tuple[str, ...]: ...


C = TypeVar("C", bound=Candidate)


def language_tag(language: str) -> str:
    """The primary language subtag, lower case: 'es-MX' and 'ES' are both 'es'."""
    return language.strip().replace("_", "-").split("-", 1)[0].lower()


@dataclass(frozen=True)
class ClientPreferences:
    """What a client asked for (ClientEnrolled.preferred_gender, language)."""

    gender: str = NO_GENDER
    language: str = DEFAULT_LANGUAGE

    @property
    def wants_gender(self) -> bool:
        return self.gender not in ("", NO_GENDER)

    @property
    def wants_language(self) -> bool:
        return language_tag(self.language) not in ("", DEFAULT_LANGUAGE, NO_GENDER)


NO_PREFERENCE = ClientPreferences()


@dataclass(frozen=True)
class Choice(Generic[C]):
    """Who is dialled and paged, and which of the client's preferences they do not meet."""

    person: C | None
    unmet: tuple[str, ...] = ()  # short, non-identifying: "F worker", "es speaker"

    @property
    def note(self) -> str | None:
        """What the page says about unmet preferences ("pref F worker unmet"), or None."""
        return f"pref {', '.join(self.unmet)} unmet" if self.unmet else None


def unmet_preferences(person: Candidate, prefs: ClientPreferences) -> tuple[str, ...]:
    """The client's preferences this person does not meet (empty: all met, or none set)."""
    unmet: list[str] = []
    if prefs.wants_gender and person.gender != prefs.gender:
        unmet.append(f"{_GENDER_CODES.get(prefs.gender, 'other')} worker")
    if prefs.wants_language:
        wanted = language_tag(prefs.language)
        if wanted not in {language_tag(lang) for lang in person.languages}:
            unmet.append(f"{wanted if _LANGUAGE.match(wanted) else 'language'} speaker")
    return tuple(unmet)


def choose(on_duty: Sequence[C | None], prefs: ClientPreferences) -> Choice[C]:
    """The first on-duty person (in rota order) meeting every preference; else the first
    on-duty person, with the preferences they leave unmet; nobody on duty: no one."""
    people = [p for p in on_duty if p is not None]
    for person in people:
        if not unmet_preferences(person, prefs):
            return Choice(person)
    if not people:
        return Choice(None)
    return Choice(people[0], unmet_preferences(people[0], prefs))
