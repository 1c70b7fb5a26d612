"""The risk table's compact values (decisions 022 and 030): a field that repeats another is
left out only when it is the same, so every state round-trips exactly, old values too."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import orjson

from dispatch.risk.fold import RiskState
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
