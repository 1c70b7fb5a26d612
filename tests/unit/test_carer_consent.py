"""Consent between a client and a carer as a fold, what a calling carer hears, the board's
team lines, a leaver's reply at the desk, and rota files' times of day."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import yaml
from pydantic import ValidationError

from dispatch.clients.consent import consent_at
from dispatch.clients.events import CarerRegistered, ConsentGranted, ConsentRevoked
from dispatch.clients.notices import assessment_notice, consent_review_notice
from dispatch.crisis import calltree
from dispatch.events import Envelope, EventPayload, new_event
from dispatch.events.codec import decode_obj
from dispatch.replies.desk import KnownDispatch, Replier, ReplierHasLeft, ReplyDesk
from dispatch.rota.rotafile import RotaFileError, parse
from tests.unit.test_rota_file import GOOD, with_

T0 = datetime(2026, 4, 1, 10, tzinfo=UTC)


def at(minutes: int, payload: EventPayload) -> Envelope:
    when = T0 + timedelta(minutes=minutes)
    return new_event(payload, key="c-1", occurred_at=when, recorded_at=when, actor="test")


def carer(consents: bool | None = None) -> CarerRegistered:
    return CarerRegistered(client_id="c-1", carer_id="k-1", display_name="Mum",
                           phone="+15550300001", relationship="parent",
                           client_consents_to_share=consents)  # fmt: skip


GRANT = ConsentGranted(client_id="c-1", carer_id="k-1", shares=("crisis_status",),
                       review_by=date(2026, 10, 1), recorded_by="cli:s-lead")  # fmt: skip
REVOKE = ConsentRevoked(client_id="c-1", carer_id="k-1", recorded_by="cli:s-lead")


def test_consent_follows_the_newest_event_at_each_instant() -> None:
    """Registered: nothing; granted: crisis status; revoked: nothing again, from that instant."""
    events = [at(0, carer()), at(10, GRANT), at(20, REVOKE)]
    assert consent_at(events, client_id="c-1", carer_id="k-1", at=T0 + timedelta(minutes=5)) is None
    granted = consent_at(events, client_id="c-1", carer_id="k-1", at=T0 + timedelta(minutes=19))
    assert (
        granted is not None and granted.allows("crisis_status") and not granted.allows("care_plan")
    )
    assert (
        consent_at(events, client_id="c-1", carer_id="k-1", at=T0 + timedelta(minutes=20)) is None
    )
    shuffled = [events[2], events[0], events[1]]  # the same facts in another order
    assert consent_at(shuffled, client_id="c-1", carer_id="k-1", at=T0 + timedelta(hours=1)) is None


def test_the_older_single_flag_still_decodes_and_means_all_or_nothing() -> None:
    """A CarerRegistered stored with client_consents_to_share reads as before: True shares
    everything (no review date), False nothing; a new registration leaves consent alone."""
    stored = at(0, carer(True)).model_dump(mode="json")
    old = decode_obj(stored)
    assert isinstance(old.payload, CarerRegistered) and old.payload.client_consents_to_share
    everything = consent_at([old], client_id="c-1", carer_id="k-1", at=T0)
    assert everything is not None and everything.review_by is None
    assert len(everything.shares) == 3
    again = [old, at(5, carer())]  # re-registered (a new phone): consent unchanged
    assert consent_at(again, client_id="c-1", carer_id="k-1", at=T0 + timedelta(minutes=6))
    none = [at(0, carer(False))]
    assert consent_at(none, client_id="c-1", carer_id="k-1", at=T0) is None


def test_a_consent_names_each_share_once() -> None:
    """Sharing crisis status twice is refused: the event names what is shared, once each."""
    with pytest.raises(ValidationError, match="each share once"):
        ConsentGranted(client_id="c-1", carer_id="k-1", shares=("care_plan", "care_plan"),
                       review_by=date(2026, 10, 1), recorded_by="x")  # fmt: skip


class _Line:
    primary = None
    backup = None
    covered = True
    fallback_team_id = None
    fallback_number = None


def test_a_carer_is_routed_the_same_and_told_only_what_consent_allows() -> None:
    """Who is dialled never changes; with crisis status shared the carer hears whether the
    team is on it, without consent they hear that nothing can be shared."""
    line = calltree.TeamLine("t", _Line(), "+15550009999")
    step = calltree.ring(line, None, calltree.ClientPreferences(), callback_minutes=15)
    open_ = calltree.tell_carer(step, calltree.CarerConsentSeen(("crisis_status",), True))
    none = calltree.tell_carer(step, calltree.CarerConsentSeen((), False))
    plan_only = calltree.tell_carer(step, calltree.CarerConsentSeen(("care_plan",), True))
    assert isinstance(step, calltree.Dial) and isinstance(open_, calltree.Dial)
    assert (open_.number, open_.next_step) == (step.number, step.next_step)
    assert calltree.CARER_CRISIS_OPEN in open_.say and open_.say.endswith(step.say)
    assert calltree.CARER_NO_CONSENT in none.say and calltree.CARER_CRISIS_OPEN not in none.say
    assert calltree.CARER_NO_CONSENT in plan_only.say


def test_board_lines_for_consents_past_review_and_assessments_due() -> None:
    """A consent is flagged once past its review date; an assessment two weeks before."""
    today = date(2026, 4, 1)
    assert consent_review_notice("c-1", "k-1", date(2026, 4, 1), today) is None
    late = consent_review_notice("c-1", "k-1", date(2026, 3, 31), today)
    assert late is not None and "CONSENT REVIEW OVERDUE c-1" in late.text
    assert assessment_notice("c-1", "k-1", date(2026, 4, 20), today) is None
    due = assessment_notice("c-1", "k-1", date(2026, 4, 10), today)
    assert due is not None and "CARER ASSESSMENT due" in due.text


class _Spool:
    def __init__(self) -> None:
        self.events: list[Envelope] = []

    async def record(self, events: list[Envelope]) -> bool:
        self.events += events
        return True


class _Clock:
    def now(self) -> datetime:
        return T0


async def test_the_desk_refuses_a_leaver_on_every_channel_and_records_nothing() -> None:
    """A replier who left before now is refused before anything is spooled; someone
    leaving later still answers."""
    spool = _Spool()
    desk = ReplyDesk(spool=spool, finder=None, decisions=None, clock=_Clock())  # type: ignore[arg-type]
    dispatch = KnownDispatch(uuid.uuid4(), "K7M2Q", None)
    gone = Replier("s-1", "t", left_at=T0 - timedelta(minutes=1))
    for channel in ("sms", "voice", "api"):
        with pytest.raises(ReplierHasLeft):
            await desk.submit(dispatch, replier=gone, channel=channel, verb="ack", reply_id="r")  # type: ignore[arg-type]
    assert spool.events == []
    leaving = Replier("s-1", "t", left_at=T0 + timedelta(days=3))
    await desk.submit(dispatch, replier=leaving, channel="sms", verb="ack", reply_id="r")
    assert len(spool.events) == 1


def test_rota_times_of_day_are_read_as_written() -> None:
    """`handoff: 18:00` unquoted is 18:00 (not 1080 seconds); a bare number is refused."""
    text = yaml.safe_dump(GOOD).replace("handoff: 09:00", "handoff: 18:00")
    text = text.replace("handoff: '09:00'", "handoff: 18:00")
    assert "handoff: 18:00" in text
    assert parse(text).rotations[0].handoff.isoformat() == "18:00:00"
    with pytest.raises(RotaFileError, match=r"^rotations\[0\]\.handoff: write a time of day"):
        parse(with_("rotations.0.handoff", 1080))


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "overrides.0.ends",
            "2026-04-10T12:00:00+00:00",
            r"^overrides\[0\]\.ends: lasts at most 31",
        ),
        ("overrides.0.staff", "a", r"^overrides\[0\]: a would be both primary and backup"),
    ],
)
def test_rota_files_refuse_long_overrides_and_double_bookings(
    path: str, value: str, message: str
) -> None:
    """An override over 31 days, or one making someone primary and backup at once: refused."""
    data = yaml.safe_load(with_(path, value))
    data["overrides"][0]["layer"] = "backup" if path.endswith("staff") else "primary"
    with pytest.raises(RotaFileError, match=message):
        parse(yaml.safe_dump(data))
