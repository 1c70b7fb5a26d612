"""A client's history: grouped by kind, unknown event types kept and named, windowed."""

from __future__ import annotations

from datetime import timedelta

from dispatch.events.registry import BY_TYPE
from dispatch.review.client import review_client
from tests.unit.review_builders import CLIENT, T0, archived, golden_incident, raw, s

KNOWN = frozenset(BY_TYPE)


def _facts():  # type: ignore[no-untyped-def]
    incident = [archived(e) for e in golden_incident()]
    mine = [
        f for f in incident if f.key == CLIENT or f.type in ("DispatchOpened", "DispatchResolved")
    ]
    return [
        *mine,
        raw("ReferralOfTheFuture", CLIENT, T0 - timedelta(days=40), {"client_id": CLIENT}),
        raw(
            "ConsentWidenedLater",
            CLIENT,
            s(30),
            {"client_id": CLIENT, "carer_id": "k-1", "phone": "+15550770098"},
        ),
        raw(
            "ClientRecordsViewed",
            "act-rv",
            s(40),
            {
                "team_id": "act-rv",
                "viewer": "api:manager",
                "view": "review:client",
                "client_ids": [CLIENT],
            },
        ),
    ]


def test_every_kind_of_event_is_grouped_and_unknown_types_are_named() -> None:
    """Calls, dispatches, contacts, consent (even of a type this version does not know),
    reads of the record, and an unknown referral event listed by its type (names of types
    no version of this code declares)."""
    history = review_client(CLIENT, _facts(), known_types=KNOWN)
    assert history.counts == {
        "call": 1,
        "consent": 1,
        "contact": 1,
        "dispatch": 2,
        "other (unknown type)": 1,
        "records read": 1,
    }
    assert history.unknown_types == ("ConsentWidenedLater", "ReferralOfTheFuture")
    consent = next(e for e in history.entries if e.type == "ConsentWidenedLater")
    assert consent.summary == "client_id=c-rv1, carer_id=k-1"  # no phone number shown
    read = next(e for e in history.entries if e.category == "records read")
    assert read.summary == "records read by api:manager (review:client)"


def test_the_window_keeps_what_happened_inside_it() -> None:
    """--from/--to keep the events that happened in [from, to): the referral is left out."""
    history = review_client(
        CLIENT, _facts(), known_types=KNOWN, start=T0 - timedelta(days=1), end=s(1000)
    )
    assert [e.type for e in history.entries] == [
        "CrisisCallReceived",
        "DispatchOpened",
        "ConsentWidenedLater",
        "ClientRecordsViewed",
        "DispatchResolved",
    ]
