"""The crisis line's pure decisions: dispatch, page text, staff replies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.crisis.codes import normalise_code, short_code
from dispatch.crisis.decide import (
    DispatchView,
    ReplyRefused,
    Responder,
    acknowledge,
    open_dispatch,
    resolve,
)
from dispatch.crisis.events import CrisisCallReceived, DispatchOpened
from dispatch.crisis.replies import ReplyError, parse_reply
from dispatch.events import Envelope, derived_id, new_event
from dispatch.paging.events import PageRequested

T0 = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
NOW = T0 + timedelta(seconds=2)
NURSE = Responder(staff_id="s-nurse", phone="+15550001001")


def call(sid: str = "CA42", client: str | None = "c-7", kind: str = "client") -> Envelope:
    return new_event(
        CrisisCallReceived(
            call_sid=sid,
            caller_number="+15559990007",
            caller_kind=kind,  # type: ignore[arg-type]
            client_id=client,
            team_id="t-north",
            dialled_staff_id="s-nurse",
        ),
        key=client or f"caller:{sid}",
        event_id=derived_id("twilio-call", sid),
        occurred_at=T0,
        recorded_at=T0,
        actor="twilio",
    )


def test_crisis_call_opens_dispatch_and_pages_on_duty() -> None:
    """A crisis call yields DispatchOpened then one SMS PageRequested to the on-duty worker."""
    events = open_dispatch(call(), responder=NURSE, now=NOW)
    assert [e.type for e in events] == ["DispatchOpened", "PageRequested"]
    opened, page = events[0].payload, events[1].payload
    assert isinstance(opened, DispatchOpened) and isinstance(page, PageRequested)
    assert opened.risk_level == "crisis" and opened.team_id == "t-north"
    assert page.to_number == NURSE.phone and page.channel == "sms"
    assert page.dispatch_id == opened.dispatch_id
    assert events[1].causation_id == events[0].event_id
    assert events[1].correlation_id == events[0].correlation_id == call().correlation_id


def test_deciding_twice_gives_identical_events() -> None:
    """A redelivered call re-derives the same ids, so downstream dedup can recognise it."""
    first = open_dispatch(call(), responder=NURSE, now=NOW)
    again = open_dispatch(call(), responder=NURSE, now=NOW + timedelta(minutes=5))
    assert [e.event_id for e in first] == [e.event_id for e in again]
    assert first[1].payload == again[1].payload


def test_event_time_not_wall_clock() -> None:
    """The dispatch happened when the call happened, whenever it is processed."""
    events = open_dispatch(call(), responder=NURSE, now=NOW + timedelta(hours=3))
    assert all(e.occurred_at == T0 for e in events)


def test_page_sms_carries_no_client_detail() -> None:
    """The SMS has the code and risk level only: no caller number, client id or name."""
    events = open_dispatch(call(), responder=NURSE, now=NOW)
    body = events[1].payload.body  # type: ignore[attr-defined]
    code = events[0].payload.short_code  # type: ignore[attr-defined]
    assert f"ACK {code}" in body and "CRISIS" in body
    assert "+1555999" not in body and "c-7" not in body
    assert len(body) <= 160 and body.isascii()


def test_unknown_caller_is_still_dispatched() -> None:
    """A number not on file still opens a dispatch and pages."""
    events = open_dispatch(call(client=None, kind="unknown"), responder=NURSE, now=NOW)
    assert [e.type for e in events] == ["DispatchOpened", "PageRequested"]
    assert "unknown caller" in events[1].payload.body  # type: ignore[attr-defined]


def test_no_responder_still_opens_the_dispatch() -> None:
    """With nobody on the rota the dispatch is still opened (escalation takes it from there)."""
    events = open_dispatch(call(), responder=None, now=NOW)
    assert [e.type for e in events] == ["DispatchOpened"]


@given(st.uuids())
def test_short_code_is_stable_and_readable(u: object) -> None:
    """A code is five unambiguous characters and reads back the same after phone typos."""
    import uuid

    assert isinstance(u, uuid.UUID)
    code = short_code(u)
    assert len(code) == 5 and not set(code) & set("ILOU")
    assert normalise_code(code.lower()) == code


def test_parse_replies() -> None:
    """ACK, DONE with outcome and ESC parse; lower case and O-for-0 typos are forgiven."""
    assert parse_reply("ack k7m2q").verb == "ACK"
    assert parse_reply("ACK K7M2Q").code == "K7M2Q"
    done = parse_reply("DONE K7M2Q  visited,  safe at home ")
    assert (done.verb, done.outcome) == ("DONE", "visited, safe at home")
    assert parse_reply("esc 1o2o3").code == "10203"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("hello", "Not understood"),
        ("ACK", "Not understood"),
        ("WHAT K7M2Q", "Unknown word"),
        ("DONE K7M2Q", "needs an outcome"),
    ],
)
def test_bad_replies_say_what_to_send(text: str, reason: str) -> None:
    """A reply we cannot read is answered with what to send instead."""
    with pytest.raises(ReplyError, match=reason):
        parse_reply(text)


def _view(status: str, by: str | None = None) -> DispatchView:
    import uuid

    return DispatchView(
        dispatch_id=uuid.UUID(int=7), short_code="K7M2Q", status=status, acknowledged_by=by
    )


CORR = "00000000-0000-0000-0000-000000000009"


def test_ack_then_done() -> None:
    """ACK acknowledges; DONE on an open dispatch acknowledges and resolves it."""
    ack = acknowledge(
        _view("open"),
        staff_id="s1",
        via="sms",
        reply_id="SM1",
        occurred_at=T0,
        now=NOW,
        correlation_id=CORR,
    )
    assert ack.type == "DispatchAcknowledged" and str(ack.correlation_id) == CORR
    done = resolve(
        _view("open"),
        staff_id="s1",
        via="sms",
        outcome="safe",
        reply_id="SM2",
        occurred_at=T0,
        now=NOW,
        correlation_id=CORR,
    )
    assert [e.type for e in done] == ["DispatchAcknowledged", "DispatchResolved"]


def test_ack_refused_when_taken_or_closed() -> None:
    """A second worker cannot take a dispatch a colleague holds; nobody can ACK a closed one."""
    with pytest.raises(ReplyRefused, match="taken"):
        acknowledge(
            _view("acknowledged", "s1"),
            staff_id="s2",
            via="sms",
            reply_id="SM3",
            occurred_at=T0,
            now=NOW,
            correlation_id=CORR,
        )
    with pytest.raises(ReplyRefused, match="closed"):
        resolve(
            _view("resolved", "s1"),
            staff_id="s1",
            via="sms",
            outcome="x",
            reply_id="SM4",
            occurred_at=T0,
            now=NOW,
            correlation_id=CORR,
        )
