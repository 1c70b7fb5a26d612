"""The figures of a soak: a pure function from what was recorded to what is printed.

A call is *lost* when its dispatch never appeared in the read model or no page carrying
its code reached anyone; a *duplicate* is one more page of the same call to the same
person on the same channel (every page of a soak is a first-step page: the soak's team
policy waits longer than the soak). Ring-to-page is the sandbox's arrival time of a
call's first page minus the moment the call was placed.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from dispatch.soak.faults import InjectedFault
from dispatch.soak.load import Answer, PlacedCall
from dispatch.soak.observe import SeenPage

SHOWN = 5  # examples listed under a figure that is not zero


@dataclass(frozen=True)
class SoakFacts:
    """Everything a soak recorded; `dispatch_codes` is None when PostgreSQL could not be read."""

    calls: tuple[PlacedCall, ...]
    dispatch_codes: frozenset[str] | None
    read_model_error: str | None
    pages: tuple[SeenPage, ...]
    observed_at: float  # when the facts were read (epoch seconds)
    restarts: tuple[str, ...] | None  # None: the Stack has no supervisor
    faults: tuple[InjectedFault, ...] = ()


@dataclass(frozen=True)
class Loss:
    code: str
    why: str  # "no dispatch", "no page", "no dispatch, no page"


@dataclass(frozen=True)
class Duplicate:
    code: str
    to: str
    channel: str
    times: int


@dataclass(frozen=True)
class Latency:
    p50_s: float
    p99_s: float
    max_s: float


@dataclass(frozen=True)
class Wait:
    code: str
    seconds: float
    paged: bool  # False: still waiting when the soak ended


@dataclass(frozen=True)
class SoakFigures:
    placed: int
    dialled: int
    otherwise: tuple[tuple[str, int], ...]  # (how the call was answered, how many)
    dispatches_opened: int | None
    first_paged: int
    duplicates: tuple[Duplicate, ...]
    losses: tuple[Loss, ...]
    ring_to_page: Latency | None
    longest_wait: Wait | None
    restarts: tuple[str, ...] | None
    faults: tuple[InjectedFault, ...]
    read_model_error: str | None

    @property
    def doubled(self) -> int:
        """Pages beyond the first of a call to one person on one channel."""
        return sum(d.times - 1 for d in self.duplicates)

    @property
    def passed(self) -> bool:
        """No call lost, none paged twice, every caller answered with a dial, all verified."""
        return (
            not self.losses
            and not self.duplicates
            and self.dialled == self.placed
            and self.dispatches_opened is not None
        )


def answered_how(answer: Answer) -> str:
    """`dial`, or what the caller got instead."""
    if answer.status is None:
        return f"no answer ({answer.body.split(':')[0]})"
    if answer.status != 200:
        return f"HTTP {answer.status}"
    if "<Dial" in answer.body:
        return "dial"
    return "TwiML without <Dial>" + (" (leave a message)" if "<Record" in answer.body else "")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def figures(facts: SoakFacts) -> SoakFigures:
    answers = Counter(answered_how(call.answer) for call in facts.calls)
    first: dict[str, float] = {}
    for page in sorted(facts.pages, key=lambda p: p.arrived_at):
        first.setdefault(page.code, page.arrived_at)
    per_person = Counter((p.code, p.to, p.channel) for p in facts.pages)
    codes = {call.code for call in facts.calls}
    known = facts.dispatch_codes
    losses = [
        Loss(call.code, why)
        for call in facts.calls
        if (why := _missing(call.code in first, known is None or call.code in known))
    ]
    delays = [first[call.code] - call.placed_at for call in facts.calls if call.code in first]
    end = facts.observed_at  # an unpaged call has waited until the facts were read
    waits = [
        Wait(c.code, first.get(c.code, end) - c.placed_at, c.code in first) for c in facts.calls
    ]
    return SoakFigures(
        placed=len(facts.calls),
        dialled=answers.pop("dial", 0),
        otherwise=tuple(sorted(answers.items())),
        dispatches_opened=None if known is None else len(known & codes),
        first_paged=len(first.keys() & codes),
        duplicates=tuple(
            Duplicate(code, to, channel, times)
            for (code, to, channel), times in sorted(per_person.items())
            if times > 1
        ),
        losses=tuple(losses),
        ring_to_page=(
            Latency(percentile(delays, 0.5), percentile(delays, 0.99), max(delays))
            if delays
            else None
        ),
        longest_wait=max(waits, key=lambda w: w.seconds, default=None),
        restarts=facts.restarts,
        faults=facts.faults,
        read_model_error=facts.read_model_error,
    )


def _missing(paged: bool, opened: bool) -> str:
    return ", ".join(what for what, ok in (("no dispatch", opened), ("no page", paged)) if not ok)


def render(f: SoakFigures) -> list[str]:
    """The figures as aligned lines, examples under any figure that is not zero."""
    rows: list[tuple[str, str]] = [
        ("calls placed", str(f.placed)),
        ("answered with a dial", str(f.dialled)),
        ("answered otherwise", _otherwise(f)),
        ("dispatches opened", _opened(f)),
        ("first pages sent", str(f.first_paged)),
        ("duplicates", str(f.doubled)),
        ("losses", str(len(f.losses))),
        ("ring-to-page p50/p99/max", _latency(f.ring_to_page)),
        ("longest wait for a page", _wait(f.longest_wait)),
        ("faults injected", str(sum(1 for x in f.faults if x.injected))),
        ("restarted", _restarts(f.restarts)),
    ]
    lines = ["Soak figures"]
    for label, value in rows:
        lines.append(f"  {label:<26} {value}")
        lines += _examples(label, f)
    lines.append(f"Verdict: {'pass' if f.passed else 'FAIL'}: {verdict(f)}")
    return lines


def verdict(f: SoakFigures) -> str:
    dialled = "all dialled" if f.dialled == f.placed else f"{f.placed - f.dialled} not dialled"
    return f"{len(f.losses)} lost, {f.doubled} doubled, {dialled}"


def _otherwise(f: SoakFigures) -> str:
    if not f.otherwise:
        return "0"
    total = sum(n for _, n in f.otherwise)
    return f"{total} (" + ", ".join(f"{how}: {n}" for how, n in f.otherwise) + ")"


def _opened(f: SoakFigures) -> str:
    if f.dispatches_opened is None:
        return f"unknown (read model unreadable: {f.read_model_error})"
    return str(f.dispatches_opened)


def _latency(latency: Latency | None) -> str:
    if latency is None:
        return "no page arrived"
    return f"{latency.p50_s:.2f} s / {latency.p99_s:.2f} s / {latency.max_s:.2f} s"


def _wait(wait: Wait | None) -> str:
    if wait is None:
        return "no call placed"
    state = "then paged" if wait.paged else "still waiting at the end"
    return f"{wait.seconds:.2f} s ({wait.code}, {state})"


def _restarts(restarts: tuple[str, ...] | None) -> str:
    if restarts is None:
        return "no supervisor"
    return ", ".join(restarts) if restarts else "nothing restarted"


def _examples(label: str, f: SoakFigures) -> list[str]:
    if label == "losses":
        shown = [f"{loss.code}: {loss.why}" for loss in f.losses]
    elif label == "duplicates":
        shown = [f"{d.code} to {d.to}: {d.times} {d.channel} pages" for d in f.duplicates]
    elif label == "faults injected":
        return [f"    at {x.at_s:6.1f} s: {x.detail}" for x in f.faults]
    else:
        return []
    more = [f"    ... and {len(shown) - SHOWN} more"] if len(shown) > SHOWN else []
    return [f"    {line}" for line in shown[:SHOWN]] + more
