"""The soak's figures from hand-made facts: what is counted as lost, doubled and dialled."""

from __future__ import annotations

from dispatch.soak.faults import InjectedFault, PlannedFault
from dispatch.soak.load import Answer, Caller, PlacedCall
from dispatch.soak.observe import SeenPage
from dispatch.soak.report import SoakFacts, answered_how, figures, percentile, render
from integrations.twilio import twiml

T0 = 1_700_000_000.0
DIAL = Answer(200, twiml.connect_caller("Connecting you.", "+15550100001", 20, None))
NURSE, SOCIAL = "+15550100001", "+15550100002"


def call(code: str, at: float = 0.0, answer: Answer = DIAL) -> PlacedCall:
    return PlacedCall(f"CA{code}", code, Caller("+15550200001", "client"), T0 + at, answer)


def page(code: str, at: float, to: str = NURSE, channel: str = "sms") -> SeenPage:
    return SeenPage(code, to, "sms" if channel == "sms" else "voice", T0 + at)


def facts(
    calls: list[PlacedCall],
    pages: list[SeenPage],
    opened: set[str] | None,
    restarts: tuple[str, ...] | None = None,
    end: float = 60.0,
    faults: tuple[InjectedFault, ...] = (),
) -> SoakFacts:
    return SoakFacts(
        calls=tuple(calls),
        dispatch_codes=None if opened is None else frozenset(opened),
        read_model_error=None if opened is not None else "ConnectionRefusedError: [Errno 111]",
        pages=tuple(pages),
        observed_at=T0 + end,
        restarts=restarts,
        faults=faults,
    )


def test_a_clean_run_passes_with_every_figure_whole() -> None:
    """Every call dialled, dispatched and paged once: nothing lost or doubled, exit 0."""
    f = figures(
        facts(
            [call("AAAAA", 0.0), call("BBBBB", 0.5), call("CCCCC", 1.0)],
            [page("AAAAA", 0.2), page("BBBBB", 0.9), page("CCCCC", 2.5)],
            {"AAAAA", "BBBBB", "CCCCC"},
        )
    )
    assert (f.placed, f.dialled, f.dispatches_opened, f.first_paged) == (3, 3, 3, 3)
    assert f.losses == () and f.duplicates == () and f.otherwise == ()
    assert f.ring_to_page is not None
    assert round(f.ring_to_page.p50_s, 3) == 0.4 and round(f.ring_to_page.max_s, 3) == 1.5
    assert f.longest_wait is not None and f.longest_wait.code == "CCCCC" and f.longest_wait.paged
    assert f.passed
    assert render(f)[-1] == "Verdict: pass: 0 lost, 0 doubled, all dialled"


def test_losses_duplicates_and_refused_calls_fail_the_run() -> None:
    """A call never dispatched, one paged twice to one person and one answered 500 all show."""
    f = figures(
        facts(
            [
                call("AAAAA", 0.0),
                call("BBBBB", 0.5),
                call("CCCCC", 1.0, Answer(500, "Internal Server Error")),
            ],
            [page("BBBBB", 0.8), page("BBBBB", 4.0), page("CCCCC", 1.3)],
            {"BBBBB", "CCCCC"},
        )
    )
    assert [(loss.code, loss.why) for loss in f.losses] == [("AAAAA", "no dispatch, no page")]
    assert f.doubled == 1 and f.duplicates[0].to == NURSE and f.duplicates[0].times == 2
    assert f.otherwise == (("HTTP 500", 1),) and f.dialled == 2
    assert not f.passed
    lines = render(f)
    assert lines[-1] == "Verdict: FAIL: 1 lost, 1 doubled, 1 not dialled"
    assert "    AAAAA: no dispatch, no page" in lines


def test_a_dispatch_without_a_page_is_a_loss_that_is_still_waiting() -> None:
    """A dispatch nobody was paged for is lost, and its wait runs until the facts were read."""
    f = figures(
        facts(
            [call("AAAAA", 0.0), call("BBBBB", 10.0)],
            [page("BBBBB", 10.5)],
            {"AAAAA", "BBBBB"},
            end=90.0,
        )
    )
    assert [(loss.code, loss.why) for loss in f.losses] == [("AAAAA", "no page")]
    assert f.longest_wait is not None
    assert (f.longest_wait.code, f.longest_wait.seconds, f.longest_wait.paged) == (
        "AAAAA",
        90.0,
        False,
    )
    assert f.first_paged == 1


def test_a_voice_page_after_an_sms_and_pages_to_others_are_not_duplicates() -> None:
    """One page per person and channel: SMS plus voice to one person, or two people, is fine."""
    f = figures(
        facts(
            [call("AAAAA")],
            [page("AAAAA", 0.3), page("AAAAA", 9.0, channel="voice"), page("AAAAA", 1.0, SOCIAL)],
            {"AAAAA"},
        )
    )
    assert f.duplicates == () and f.first_paged == 1
    assert f.ring_to_page is not None and round(f.ring_to_page.max_s, 3) == 0.3  # the first


def test_an_unreadable_read_model_never_passes() -> None:
    """With PostgreSQL unreadable the dispatch count is unknown and the run cannot pass."""
    f = figures(facts([call("AAAAA")], [page("AAAAA", 0.3)], None))
    assert f.dispatches_opened is None and f.losses == ()
    assert not f.passed
    assert any("unknown (read model unreadable: ConnectionRefusedError" in x for x in render(f))


def test_restarts_are_reported_as_the_supervisor_gives_them() -> None:
    """No supervisor, a supervisor that restarted nothing, and one that did, read differently."""

    def restarted(restarts: tuple[str, ...] | None) -> str:
        line = next(x for x in render(figures(facts([], [], set(), restarts))) if "restarted" in x)
        return line.split("restarted", 1)[1].strip()

    assert restarted(None) == "no supervisor"
    assert restarted(()) == "nothing restarted"
    assert restarted(("worker x2", "broker x1")) == "worker x2, broker x1"


def test_injected_faults_are_listed_with_their_moment() -> None:
    """Each fault is listed under the count of those that were injected."""
    kill = PlannedFault(at_s=12.0, kind="worker", signal="SIGKILL")
    done = facts(
        [call("AAAAA")],
        [page("AAAAA", 0.1)],
        {"AAAAA"},
        faults=(
            InjectedFault(kill, 12.1, "SIGKILL worker pid 4242", injected=True),
            InjectedFault(kill, 40.0, "skipped: no live worker", injected=False),
        ),
    )
    lines = render(figures(done))
    assert "  faults injected            1" in lines
    assert "    at   12.1 s: SIGKILL worker pid 4242" in lines
    assert "    at   40.0 s: skipped: no live worker" in lines


def test_answers_other_than_a_dial_say_how() -> None:
    """A TwiML without <Dial>, an HTTP error and no answer at all are told apart."""
    message = Answer(200, twiml.leave_message("Nobody could be reached.", "http://x/m"))
    assert answered_how(DIAL) == "dial"
    assert answered_how(message) == "TwiML without <Dial> (leave a message)"
    assert answered_how(Answer(404, "no team")) == "HTTP 404"
    assert answered_how(Answer(None, "TimeoutError: no answer within 15 s")) == (
        "no answer (TimeoutError)"
    )


def test_percentiles_are_nearest_rank() -> None:
    """p50 and p99 of 1..100 are 50 and 99; of one value, that value."""
    values = [float(v) for v in range(100, 0, -1)]
    assert (percentile(values, 0.5), percentile(values, 0.99)) == (50.0, 99.0)
    assert percentile([3.0], 0.99) == 3.0
