"""What the soak counts as a page, and how it reads a supervisor's restarts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dispatch.crisis.page_text import notice_sms, page_sms, voice_page_say
from dispatch.soak.observe import Observation, SeenPage, pages_in, supervisor_restarts
from integrations.twilio import twiml

AT = datetime(2026, 3, 9, 17, 30, tzinfo=UTC)
NURSE = "+15550100001"


def sms(body: str, to: str = NURSE) -> dict[str, Any]:
    return {"index": 1, "to": to, "body": body, "created_at": AT.isoformat()}


def test_sms_and_voice_pages_of_the_soaks_codes_are_seen() -> None:
    """A page SMS or a paging call carrying one of the calls' codes counts; nothing else."""
    page = page_sms(code="K7M2Q", risk_level="crisis", reason="crisis_call", caller_kind="client")
    other = page_sms(code="ZZZZZ", risk_level="high", reason="risk_high", caller_kind="unknown")
    call = {
        "index": 1,
        "to": "+15550100002",
        "twiml": twiml.voice_page(voice_page_say(code="K7M2Q", risk_level="crisis"), "http://x"),
        "created_at": AT.isoformat(),
    }
    seen = pages_in(
        [
            sms(page),
            sms(other),  # not a call of this soak
            sms(notice_sms(code="K7M2Q", missing="manager")),  # a notice, not a page
            sms("K7M2Q is yours. Reply DONE K7M2Q <outcome> to close."),
        ],
        [call],
        {"K7M2Q"},
    )
    assert seen == [
        SeenPage("K7M2Q", NURSE, "sms", AT.timestamp()),
        SeenPage("K7M2Q", "+15550100002", "voice", AT.timestamp()),
    ]


def test_an_observation_is_complete_when_every_code_has_its_dispatch_and_a_page() -> None:
    """Settling stops only once each call has both; an unreadable read model never is."""
    paged = (SeenPage("AAAAA", NURSE, "sms", 0.0),)
    assert Observation(paged, frozenset({"AAAAA"}), None, 0.0).complete({"AAAAA"})
    assert not Observation(paged, frozenset(), None, 0.0).complete({"AAAAA"})
    assert not Observation((), frozenset({"AAAAA"}), None, 0.0).complete({"AAAAA"})
    assert not Observation(paged, None, "down", 0.0).complete({"AAAAA"})


@dataclass
class Status:
    supervising: bool


class Supervisor:
    """The stack supervisor's two readings the soak uses."""

    def __init__(self, counts: dict[str, int], *, supervising: bool = True) -> None:
        self._counts = counts
        self._supervising = supervising

    def status(self) -> Status:
        return Status(self._supervising)

    def restart_counts(self) -> dict[str, int]:
        return self._counts


class StackWith:
    def __init__(self, supervisor: object) -> None:
        self.supervisor = supervisor


def test_restarts_are_read_from_the_supervisor() -> None:
    """No supervisor, or one not supervising: None; else each restarted part and its count."""
    assert supervisor_restarts(object()) is None
    assert supervisor_restarts(StackWith(Supervisor({"worker": 1}, supervising=False))) is None
    assert supervisor_restarts(StackWith(Supervisor({"worker": 2, "broker": 0}))) == ("worker x2",)
    assert supervisor_restarts(StackWith(Supervisor({}))) == ()
