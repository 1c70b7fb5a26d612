"""`python -m bench [--quick]` from the repo root: every benchmark in turn, then one table.

Each module of MODULES exposes `async def figures(quick: bool) -> list[Figure]`. A module
not there yet, or without `figures`, is reported as not built; one that fails is reported
with its error, and the others still run. The full run is what README's Performance section
shows: one module at a time, so that none measures beside another. `--quick` is a smoke run
at small sizes that only shows every benchmark still works: its modules run side by side,
each in a process of its own (most of their time is stacks starting), so its figures are
not comparable with anything. Each module's rows are printed as soon as it is done, so a
run stopped part way keeps what it measured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import importlib
import io
import multiprocessing
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TextIO

from bench.report import Figure, markdown

MODULES = (
    "bench.bench_latency",
    "bench.bench_risk",
    "bench.bench_replay",
    "bench.bench_memory",
    "bench.bench_scale",
    "bench.bench_broker",
)

FiguresOf = Callable[[bool], Awaitable[list[Figure]]]


@dataclass
class Outcome:
    """What one module gave: its figures, or why it gave none."""

    module: str
    figures: list[Figure] = field(default_factory=list)
    problem: str = ""  # "not built", or the error that stopped it
    seconds: float = 0.0


def load(module: str) -> FiguresOf | None:
    """The module's `figures`, or None when the module (or the function) is not built."""
    try:
        found = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return None
        raise  # the module is there but imports something missing: that is a failure
    figures: FiguresOf | None = getattr(found, "figures", None)
    return figures if callable(figures) else None


async def outcome_of(
    module: str,
    quick: bool,
    *,
    starting: Callable[[], None] = lambda: None,
    tracebacks: TextIO | None = None,
) -> Outcome:
    """One module run: its figures, or why it gave none (a failure's traceback printed to
    `tracebacks`, stderr by default); `starting` is called once its figures begin."""
    began = time.monotonic()
    try:
        figures = load(module)
        if figures is None:
            outcome = Outcome(module, problem="not built")
        else:
            starting()
            outcome = Outcome(module, figures=list(await figures(quick)))
    except Exception as exc:  # one benchmark failing does not hide the others
        traceback.print_exc(file=tracebacks)
        outcome = Outcome(module, problem=f"failed: {type(exc).__name__}: {exc}"[:300])
    outcome.seconds = time.monotonic() - began
    return outcome


def _report(outcome: Outcome, say: Callable[[str], None], printed: str = "") -> None:
    """What the module printed, how it ended, then its rows at once: a run stopped later
    keeps what it measured."""
    detail = outcome.problem or f"{len(outcome.figures)} figures"
    say(f"{printed}{outcome.module}: {detail} ({outcome.seconds:.1f} s)")
    if outcome.figures:
        say(markdown(outcome.figures))


async def run_all(
    modules: Sequence[str], quick: bool, say: Callable[[str], None] = print
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for module in modules:
        running = functools.partial(say, f"{module}: running{' (quick)' if quick else ''}...")
        outcome = await outcome_of(module, quick, starting=running)
        _report(outcome, say)
        outcomes.append(outcome)
    return outcomes


def run_in_child(module: str, quick: bool) -> tuple[Outcome, str]:
    """One module's outcome and what it printed, in a process of its own."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        outcome = asyncio.run(outcome_of(module, quick, tracebacks=printed))
    return outcome, printed.getvalue()


async def run_side_by_side(
    modules: Sequence[str], quick: bool, say: Callable[[str], None] = print
) -> list[Outcome]:
    """Every module at once, each in a spawned process; each reported as it ends (what it
    printed, then its rows), the outcomes in the order of `modules`."""
    loop = asyncio.get_running_loop()
    spawn = multiprocessing.get_context("spawn")  # no copy of this process's event loop
    width = max(len(modules), 1)
    # A fresh process for each module: none inherits what another left behind.
    with ProcessPoolExecutor(width, mp_context=spawn, max_tasks_per_child=1) as pool:

        async def one(module: str) -> Outcome:
            outcome, printed = await loop.run_in_executor(pool, run_in_child, module, quick)
            _report(outcome, say, printed)
            return outcome

        say(f"running side by side (quick): {', '.join(modules)}")
        return list(await asyncio.gather(*(one(m) for m in modules)))


def render(outcomes: Sequence[Outcome]) -> str:
    """The table of every figure, then a line for each module that gave none."""
    table = markdown([f for o in outcomes for f in o.figures])
    missing = [f"- {o.module}: {o.problem}" for o in outcomes if o.problem]
    return "\n".join([table, *(["", *missing] if missing else [])])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run at small sizes, the benchmarks side by side (about a minute)",
    )
    parser.add_argument(
        "--only", action="append", default=[], metavar="MODULE",
        help="run only this module (e.g. bench_latency); may be repeated",
    )  # fmt: skip
    args = parser.parse_args(argv)
    modules = [m for m in MODULES if not args.only or m.rsplit(".", 1)[1] in args.only]
    began = time.monotonic()
    run = run_side_by_side if args.quick else run_all
    outcomes = asyncio.run(run(modules, args.quick))
    print(f"\nAll benchmarks in {time.monotonic() - began:.0f} s\n")
    print(render(outcomes))
    return 1 if any(o.problem.startswith("failed") for o in outcomes) else 0
