"""The records of a latency run (calls, per-rate results) and the figures made of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.report import Figure

PATH = "ring to page"
FIRST_CALLS = 10  # "the first calls after a start"
P99_TARGET_MS = {10.0: 100.0, 100.0: 250.0}
WEBHOOK_P99_TARGET_MS = 50.0


@dataclass(frozen=True)
class Call:
    call_sid: str
    line: str
    placed_at: float
    answer_ms: float
    status: int


@dataclass(frozen=True)
class RateRun:
    rate: float
    seconds: float
    calls: list[Call]
    page_ms: list[float | None]  # ring to first page per call, None: no page (lost)
    doubled: int  # calls whose first page reached Twilio more than once
    hops: dict[str, list[float]]  # ms per hop (bench/latency_hops.py)
    cpu_line: str = ""  # CPU ms per call by process (latency_profile.CpuUse)
    first_hops: dict[int, list[float]] = field(default_factory=dict)  # the first calls' hops

    @property
    def achieved_rate(self) -> float:
        span = self.calls[-1].placed_at - self.calls[0].placed_at if len(self.calls) > 1 else 0
        return (len(self.calls) - 1) / span if span > 0 else 0.0

    @property
    def lost(self) -> int:
        """Calls the webhook accepted (HTTP 200: spooled) that no page followed."""
        pairs = zip(self.calls, self.page_ms, strict=True)
        return sum(1 for c, ms in pairs if ms is None and c.status == 200)

    @property
    def unanswered(self) -> int:
        """Calls the webhook did not answer with 200 within Twilio's 15 s (Twilio would
        have fetched the line's Fallback URL: the static TwiML dials a human)."""
        return sum(1 for c in self.calls if c.status != 200)

    @property
    def paged(self) -> list[float]:
        return sorted(ms for ms in self.page_ms if ms is not None)


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


def window_line(run: RateRun, window_s: float = 10.0) -> str:
    """Ring to page p50 / p99 / max per `window_s` of the run, by when the call was placed:
    whether a tail is spread over the run or one stall (a queue that builds, or a pause)."""
    if not run.calls:
        return ""
    start = run.calls[0].placed_at
    windows: dict[int, list[float]] = {}
    for call, ms in zip(run.calls, run.page_ms, strict=True):
        if ms is not None:
            windows.setdefault(int((call.placed_at - start) // window_s), []).append(ms)
    parts = []
    for i in sorted(windows):
        v = sorted(windows[i])
        parts.append(
            f"{i * window_s:g}-{(i + 1) * window_s:g} s {percentile(v, 50):.0f}/"
            f"{percentile(v, 99):.0f}/{v[-1]:.0f}"
        )
    return f"  ring to page by {window_s:g}-s window (p50/p99/max ms): " + ", ".join(parts)


def rate_figures(run: RateRun) -> list[Figure]:
    at = f"{run.rate:g} calls/s"
    note = f"{len(run.calls)} calls in {run.seconds:g} s, {run.achieved_rate:.1f}/s achieved"
    paged, answers = run.paged, sorted(c.answer_ms for c in run.calls)
    target = P99_TARGET_MS.get(run.rate)
    out = [
        Figure(PATH, f"p50 at {at}", percentile(paged, 50), "ms", note=note),
        Figure(
            PATH,
            f"p99 at {at}",
            percentile(paged, 99),
            "ms",
            target=f"< {target:g} ms" if target else "",
            met=percentile(paged, 99) < target if target else None,
        ),
        Figure(PATH, f"p99.9 at {at}", percentile(paged, 99.9), "ms"),
        Figure(
            PATH,
            f"accepted calls with no page at {at}",
            run.lost,
            "calls",
            target="0",
            met=run.lost == 0,
            note=", ".join(
                part
                for part in (
                    f"{run.unanswered} not answered within 15 s" if run.unanswered else "",
                    f"{run.doubled} paged twice" if run.doubled else "",
                )
                if part
            ),
        ),
        Figure("webhook (TwiML)", f"p50 at {at}", percentile(answers, 50), "ms"),
    ]
    webhook_target = run.rate >= 100
    bad = sum(1 for c in run.calls if c.status != 200)
    out.append(
        Figure(
            "webhook (TwiML)",
            f"p99 at {at}",
            percentile(answers, 99),
            "ms",
            target=f"< {WEBHOOK_P99_TARGET_MS:g} ms" if webhook_target else "",
            met=percentile(answers, 99) < WEBHOOK_P99_TARGET_MS if webhook_target else None,
            note=f"{bad} not HTTP 200" if bad else "",
        )
    )
    return out


def _warm(first: RateRun) -> tuple[int, float | None, str]:
    """How many calls count as the first after the start, and the p99 of the run's later
    calls (same rate, same stack, warm) with its name; (n, None, "") without later calls."""
    n = min(FIRST_CALLS, len(first.page_ms) // 2)  # and as many later calls at least
    later = sorted(ms for ms in first.page_ms[n:] if ms is not None)
    if not later:
        return n, None, ""
    return n, percentile(later, 99), f"p99 of the later calls at {first.rate:g} calls/s"


def warmup_figure(first: RateRun) -> Figure:
    """The slowest of the first calls after the start, beside the p99 of the same run's
    later calls."""
    n, ceiling, ceiling_name = _warm(first)
    early = [ms for ms in first.page_ms[:n] if ms is not None]
    worst = max(early) if early else float("nan")
    return Figure(
        PATH,
        f"slowest of the first {n} calls after the start",
        worst,
        "ms",
        ceiling_name=ceiling_name,
        ceiling=ceiling,
        target="as fast as the rest",
        met=bool(early) and len(early) == n and ceiling is not None and worst <= ceiling,
        note=f"{first.rate:g} calls/s from ready",
    )


def quiet_figure(page_ms: Sequence[float | None], quiet_s: float, first: RateRun) -> Figure:
    """The slowest of the calls placed each after a quiet spell, beside the p99 of the
    first run's later calls (warm, one call a second)."""
    _, ceiling, ceiling_name = _warm(first)
    paged = [ms for ms in page_ms if ms is not None]
    return Figure(
        PATH,
        f"slowest of {len(page_ms)} calls, each after {quiet_s:g} s of quiet",
        max(paged) if len(paged) == len(page_ms) and paged else float("nan"),
        "ms",
        ceiling_name=ceiling_name,
        ceiling=ceiling,
        note="no call in between: the idle connections' case",
    )


def burst_figure(page_ms: float | None, burst: int, first: RateRun) -> Figure:
    """The call placed right after a burst of client events, beside the p99 of the first
    run's later calls (warm, one call a second, nothing else arriving)."""
    _, ceiling, ceiling_name = _warm(first)
    return Figure(
        PATH,
        f"a call right after a burst of {burst:,} client events",
        page_ms if page_ms is not None else float("nan"),
        "ms",
        ceiling_name=ceiling_name,
        ceiling=ceiling,
        note="contacts, signals, enrolments of 2,000 clients, published at once before the call",
    )


def first_calls_lines(run: RateRun) -> list[str]:
    """The first calls after the start, each with its ring to page and its hops (HOPS), to
    show which hop a warm-up tail is in."""
    first = min(FIRST_CALLS, len(run.calls))
    out = [f"  the first {first} calls at {run.rate:g} calls/s, ring to page = hops (ms):"]
    for n in range(first):
        hops = run.first_hops.get(n)
        total = run.page_ms[n]
        split = " + ".join(f"{ms:.1f}" for ms in hops) if hops else "hops not known"
        shown = f"{total:7.1f}" if total is not None else "no page"
        out.append(f"    call {n + 1:2}: {shown} = {split}")
    return out


def generator_figure(alone: list[Call], rate: float, with_stack: RateRun | None) -> Figure:
    answers = sorted(c.answer_ms for c in alone)
    return Figure(
        "load generator",
        f"alone: webhook p99 at {rate:g} calls/s against a null webhook",
        percentile(answers, 99),
        "ms",
        ceiling_name="with the stack" if with_stack else "",
        ceiling=percentile(sorted(c.answer_ms for c in with_stack.calls), 99)
        if with_stack
        else None,
        note=f"{len(alone)} calls",
    )
