"""Choosing the on-duty worker by a client's preferences, and what the page then says."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.crisis.decide import Responder, open_dispatch
from dispatch.crisis.events import CrisisCallReceived, CrisisTextReceived
from dispatch.crisis.page_text import GSM7_SAFE, page_sms
from dispatch.crisis.preferences import (
    NO_PREFERENCE,
    Choice,
    ClientPreferences,
    choose,
    language_tag,
    unmet_preferences,
)
from dispatch.crisis.service import CrisisLine
from dispatch.escalation.policy import EscalationPolicy, default_policy
from dispatch.events import Envelope, derived_id, new_event
from dispatch.paging.events import PageRequested


@dataclass(frozen=True)
class Person:
    staff_id: str
    gender: str
    languages: tuple[str, ...] = ("en",)
    phone: str = "+15550000000"


MALE = Person("s-m", "male")
FEMALE = Person("s-f", "female")
FEMALE_ES = Person("s-fes", "female", ("en", "es-MX"))
MALE_ES = Person("s-mes", "male", ("es",))
WANTS_F = ClientPreferences(gender="female")
T0 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)

GENDERS = st.sampled_from(["female", "male", "nonbinary", "unspecified"])
LANGS = st.sampled_from(["en", "es", "fr", "pt-BR", "zh", ""])
PEOPLE = st.builds(
    Person,
    staff_id=st.sampled_from(["a", "b", "c"]),
    gender=GENDERS,
    languages=st.lists(LANGS, max_size=3).map(tuple),
)
PREFS = st.builds(ClientPreferences, gender=GENDERS, language=LANGS)


def test_no_preference_takes_the_primary() -> None:
    """Without preferences the primary is chosen and nothing is unmet."""
    assert choose([MALE, FEMALE], NO_PREFERENCE) == Choice(MALE)


def test_gender_preference_picks_the_matching_backup() -> None:
    """A client who prefers a female worker gets the female backup over a male primary."""
    assert choose([MALE, FEMALE], WANTS_F) == Choice(FEMALE)


def test_matching_primary_is_kept() -> None:
    """When the primary matches, the primary is chosen even if the backup matches too."""
    assert choose([FEMALE, FEMALE_ES], WANTS_F) == Choice(FEMALE)


def test_nobody_matching_falls_back_to_primary_with_a_note() -> None:
    """With nobody matching, the primary is chosen and the note says the preference is unmet."""
    choice = choose([MALE, MALE_ES], WANTS_F)
    assert choice.person == MALE and choice.unmet == ("F worker",)
    assert choice.note == "pref F worker unmet"


def test_language_preference_matches_primary_subtag() -> None:
    """'es' is met by a worker speaking 'es-MX'; language tags ignore case and region."""
    prefs = ClientPreferences(language="ES")
    assert choose([MALE, FEMALE_ES], prefs) == Choice(FEMALE_ES)
    assert language_tag("pt_BR") == "pt"


def test_both_preferences_must_be_met() -> None:
    """Gender and language together: only someone meeting both counts as a match."""
    prefs = ClientPreferences(gender="female", language="es")
    assert choose([MALE_ES, FEMALE, FEMALE_ES], prefs) == Choice(FEMALE_ES)
    unmet = choose([MALE_ES, FEMALE], prefs)
    assert unmet.person == MALE_ES and unmet.note == "pref F worker unmet"
    assert unmet_preferences(MALE, prefs) == ("F worker", "es speaker")


@pytest.mark.parametrize("language", ["en", "EN-gb", "", "unspecified"])
def test_english_or_unspecified_language_is_no_preference(language: str) -> None:
    """A language of 'en' or unspecified sets no preference."""
    assert not ClientPreferences(language=language).wants_language


def test_nobody_on_duty_chooses_nobody() -> None:
    """No primary and no backup: no one is chosen; a missing primary yields the backup."""
    assert choose([None, None], WANTS_F) == Choice(None)
    assert choose([None, MALE], WANTS_F).person == MALE


def test_odd_language_is_not_echoed_into_the_note() -> None:
    """A language that is not a 2-3 letter code is reported generically (page stays GSM-7)."""
    assert unmet_preferences(MALE, ClientPreferences(language="Ελληνικά")) == ("language speaker",)


@given(st.lists(st.one_of(st.none(), PEOPLE), max_size=3), PREFS)
def test_choice_is_a_match_or_the_first_on_duty(
    on_duty: list[Person | None], prefs: ClientPreferences
) -> None:
    """The choice is the first full match in rota order, else the first person on duty."""
    choice = choose(on_duty, prefs)
    people = [p for p in on_duty if p is not None]
    matches = [p for p in people if not unmet_preferences(p, prefs)]
    if matches:
        assert choice == Choice(matches[0])
    elif people:
        assert choice.person == people[0] and choice.unmet
    else:
        assert choice == Choice(None)


@given(
    st.lists(st.one_of(st.none(), PEOPLE), max_size=3),
    PREFS,
    st.sampled_from(["client", "carer", "unknown"]),
    st.sampled_from(["crisis_call", "crisis_text", "risk_high"]),
    st.sampled_from(["stable", "elevated", "high", "crisis"]),
)
def test_page_with_any_note_is_one_gsm7_segment(
    on_duty: list[Person | None],
    prefs: ClientPreferences,
    caller: str,
    reason: str,
    risk: str,
) -> None:
    """Whatever the preferences and rota, the page with its note fits one GSM-7 segment."""
    note = choose(on_duty, prefs).note
    text = page_sms(code="K7M2Q", risk_level=risk, reason=reason, caller_kind=caller, note=note)  # type: ignore[arg-type]
    assert len(text) <= 160 and GSM7_SAFE.issuperset(text)


def test_page_note_is_in_the_requested_page() -> None:
    """open_dispatch puts the note in the page text and nowhere in the dispatch."""
    text = new_event(
        CrisisTextReceived(
            message_sid="SM1",
            sender_number="+15550009999",
            caller_kind="client",
            client_id="c-1",
            team_id="t",
            body="help",
        ),
        key="c-1",
        event_id=derived_id("twilio-sms", "SM1"),
        occurred_at=T0,
        recorded_at=T0,
        actor="test",
    )
    responder = Responder(staff_id="s-m", phone="+15550000001")
    opened, page = open_dispatch(text, responder=responder, now=T0, note="pref F worker unmet")
    assert "pref F worker unmet" in page.payload.body  # type: ignore[attr-defined]
    assert "pref" not in opened.payload.model_dump_json()
    assert "c-1" not in page.payload.body  # type: ignore[attr-defined]


class FakeRota:
    """The rota and client file as the crisis line sees them."""

    def __init__(self, on_duty: list[Person | None], prefs: dict[str, ClientPreferences]) -> None:
        self.on_duty, self.prefs = on_duty, prefs
        self.people = {p.staff_id: p for p in on_duty if p is not None}

    async def responder(self, team_id: str, at: datetime) -> Responder | None:
        raise AssertionError("the crisis line chooses by preference, not the plain responder")

    async def staff_responder(self, staff_id: str) -> Responder | None:
        raise AssertionError("the crisis line needs the dialled person's gender and languages")

    async def on_duty_people(self, team_id: str, at: datetime) -> list[Person | None]:
        return self.on_duty

    async def staff_person(self, staff_id: str) -> Person | None:
        return self.people.get(staff_id)

    async def client_preferences(self, client_id: str) -> ClientPreferences:
        return self.prefs.get(client_id, NO_PREFERENCE)


class DefaultPolicy:
    async def policy_for(self, team_id: str) -> EscalationPolicy:
        return default_policy()


class FixedClock:
    def now(self) -> datetime:
        return T0


def _contact(payload: CrisisCallReceived | CrisisTextReceived) -> Envelope:
    return new_event(payload, key=payload.client_id or "caller:x", occurred_at=T0,
                     recorded_at=T0, actor="test")  # fmt: skip


def _text(client_id: str | None, kind: str = "client") -> Envelope:
    return _contact(
        CrisisTextReceived(message_sid="SM9", sender_number="+15550009999",
                           caller_kind=kind, client_id=client_id, team_id="t", body="x")  # type: ignore[arg-type]
    )  # fmt: skip


async def _page(rota: FakeRota, contact: Envelope) -> PageRequested:
    events = await CrisisLine(rota, FixedClock(), policies=DefaultPolicy()).handle_contact(contact)
    pages = [e.payload for e in events if isinstance(e.payload, PageRequested)]
    assert len(pages) == 1
    return pages[0]


async def test_crisis_text_pages_the_preferred_backup() -> None:
    """A text from a client preferring a female worker pages the female backup."""
    page = await _page(FakeRota([MALE, FEMALE], {"c-1": WANTS_F}), _text("c-1"))
    assert page.staff_id == FEMALE.staff_id and "pref" not in page.body


async def test_crisis_text_with_nobody_matching_pages_primary_with_note() -> None:
    """Nobody matches: the primary is paged and the page says the preference is unmet."""
    page = await _page(FakeRota([MALE, MALE_ES], {"c-1": WANTS_F}), _text("c-1"))
    assert page.staff_id == MALE.staff_id and "pref F worker unmet" in page.body


async def test_unknown_texter_has_no_preference() -> None:
    """An unknown number's text pages the primary without a note."""
    page = await _page(FakeRota([MALE, FEMALE], {}), _text(None, "unknown"))
    assert page.staff_id == MALE.staff_id and "pref" not in page.body


async def test_call_pages_whoever_the_webhook_dialled() -> None:
    """A call pages its dialled_staff_id, noting the preferences that person leaves unmet."""
    call = CrisisCallReceived(
        call_sid="CA9",
        caller_number="+15550009999",
        caller_kind="carer",
        client_id="c-1",
        team_id="t",
        dialled_staff_id=MALE.staff_id,
    )
    page = await _page(FakeRota([MALE, MALE_ES], {"c-1": WANTS_F}), _contact(call))
    assert page.staff_id == MALE.staff_id and "(carer), pref F worker unmet." in page.body
