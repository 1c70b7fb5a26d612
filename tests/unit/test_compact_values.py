"""The risk table's compact values (decisions 022 and 030): a field that repeats another is
left out only when it is the same, so every state round-trips exactly, old values too."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import orjson
from hypothesis import given
from hypothesis import strategies as st

from dispatch.risk.fold import RiskState
from dispatch.worker.compact import drop_repeats, to_bytes
from dispatch.worker.risk_agent import REPEATS, dump_state, load_state

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SEEN = uuid.uuid5(uuid.NAMESPACE_URL, "contact")


def test_repeated_fields_are_left_out_and_come_back() -> None:
    state = RiskState(
        client_id="c-1", enrolled_at=T0, team_since=T0, score=4.5, effective=4.5,
        score_level="elevated", level="elevated", last_contact_at=T0, last_face_to_face=T0,
        last_contact_event=SEEN, last_face_to_face_event=SEEN,
    )  # fmt: skip
    compact = dump_state(state)
    assert not set(REPEATS) & set(orjson.loads(compact))
    assert load_state(compact, "c-1") == state


def test_fields_that_differ_from_their_partner_are_kept_even_at_their_default() -> None:
    states = [
        RiskState(client_id="c-1", score=4.5, score_level="elevated"),  # effective 0, stable
        RiskState(client_id="c-1", enrolled_at=T0),  # team_since None
        RiskState(
            client_id="c-1",
            score=1.0,
            effective=7.25,
            score_level="stable",
            level="crisis",
            enrolled_at=T0,
            team_since=T0 + timedelta(days=3),
            last_contact_at=T0,
            last_contact_event=SEEN,
        ),
        RiskState(client_id="c-1"),
    ]
    for state in states:
        assert load_state(dump_state(state), "c-1") == state
        old = state.model_dump(mode="json")  # before decision 022, and its changelog bytes
        assert load_state(old, "c-1") == state
        assert load_state(orjson.dumps(old), "c-1") == state
    assert load_state(None, "c-9") == RiskState(client_id="c-9")


PAIRED_VALUES = {
    "effective": st.sampled_from([0.0, -0.0, 4.5, 7.25]),
    "score": st.sampled_from([0.0, 4.5]),
    "level": st.sampled_from(["stable", "elevated", "crisis"]),
    "score_level": st.sampled_from(["stable", "elevated"]),
    "team_since": st.sampled_from([None, T0]),
    "enrolled_at": st.sampled_from([None, T0]),
    "last_face_to_face": st.sampled_from([None, T0]),
    "last_contact_at": st.sampled_from([None, T0]),
    "last_face_to_face_event": st.sampled_from([None, SEEN]),
    "last_contact_event": st.sampled_from([None, SEEN]),
}


@given(st.fixed_dictionaries(PAIRED_VALUES))
def test_the_compact_value_is_what_two_full_dumps_gave(values: dict[str, object]) -> None:
    """`dump_state` reads each pair from one dump (a field left out is at its default): the
    bytes are those of reading them from a second dump of the pairs, and load back exactly."""
    state = RiskState(client_id="c-1", **values)  # type: ignore[arg-type]
    value = state.model_dump(mode="json", exclude_defaults=True)
    full = state.model_dump(mode="json", include={*REPEATS, *REPEATS.values()})
    drop_repeats(value, full, REPEATS)
    assert dump_state(state) == to_bytes(value)
    assert load_state(dump_state(state), "c-1") == state
