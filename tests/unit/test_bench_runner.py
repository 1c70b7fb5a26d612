"""`python -m bench` and `dispatch bench`: the table renders, a benchmark not built yet or
failing is named instead of stopping the run, and the command's help is true."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench import runner
from bench.latency_figures import Call, RateRun, percentile, window_line
from bench.report import Figure
from dispatch.cli import main
from dispatch.commands import bench as bench_cli

ROOT = Path(__file__).resolve().parents[2]


def _module(name: str, monkeypatch: pytest.MonkeyPatch, **attrs: object) -> str:
    module = types.ModuleType(name)
    for key, value in attrs.items():
        setattr(module, key, value)
    monkeypatch.setitem(sys.modules, name, module)
    return name


async def test_the_table_has_every_figure_and_names_what_gave_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def figures(quick: bool) -> list[Figure]:
        return [
            Figure("ring to page", "p99 at 10 calls/s", 42.0, "ms", target="< 100 ms", met=True),
            Figure(
                "risk pipeline",
                "faust agent",
                500.0,
                "events/s",
                ceiling_name="in-process fold",
                ceiling=30_000.0,
                target=">= 15,000 events/s",
                met=False,
                note="quick" if quick else "full",
            ),
        ]

    async def broken(quick: bool) -> list[Figure]:
        raise RuntimeError("broker gone")

    built = _module("bench_fake_built", monkeypatch, figures=figures)
    bare = _module("bench_fake_bare", monkeypatch)  # a module without figures()
    failing = _module("bench_fake_failing", monkeypatch, figures=broken)
    said: list[str] = []
    outcomes = await runner.run_all(
        [built, "bench.bench_not_there_yet", bare, failing], quick=True, say=said.append
    )
    table = runner.render(outcomes)

    assert "| ring to page | p99 at 10 calls/s | 42.0 ms |  |  | < 100 ms | yes |" in table
    assert "in-process fold: 30,000 events/s | 0.02 | >= 15,000 events/s | **no** |" in table
    assert "faust agent (quick)" in table
    assert "- bench.bench_not_there_yet: not built" in table
    assert "- bench_fake_bare: not built" in table
    assert "- bench_fake_failing: failed: RuntimeError: broker gone" in table
    assert any(line.startswith("bench_fake_built: 2 figures") for line in said)
    # each module's rows as soon as it is done: a run stopped later keeps them
    done = said.index(next(line for line in said if line.startswith("bench_fake_built: 2")))
    assert "| ring to page | p99 at 10 calls/s | 42.0 ms |" in said[done + 1]


QUICK_BUILT = """
import os
from bench.report import Figure

async def figures(quick: bool) -> list[Figure]:
    print("progress of the built one")
    return [Figure("quick", "process", float(os.getpid()), "pid", note=str(quick))]
"""
QUICK_FAILING = """
async def figures(quick: bool):
    raise RuntimeError("broker gone")
"""


async def test_a_quick_run_runs_each_module_in_a_process_of_its_own(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`--quick` runs the modules side by side in spawned processes: each gives its rows
    and what it printed, a failing or missing one is named, and the order is kept."""
    (tmp_path / "bench_quick_one.py").write_text(QUICK_BUILT)
    (tmp_path / "bench_quick_two.py").write_text(QUICK_BUILT)
    (tmp_path / "bench_quick_failing.py").write_text(QUICK_FAILING)
    monkeypatch.syspath_prepend(str(tmp_path))  # the spawned processes get this path too
    said: list[str] = []
    modules = ["bench_quick_one", "bench.bench_not_there_yet", "bench_quick_failing",
               "bench_quick_two"]  # fmt: skip

    outcomes = await runner.run_side_by_side(modules, quick=True, say=said.append)

    assert [o.module for o in outcomes] == modules
    one, missing, failing, two = outcomes
    pids = {one.figures[0].value, two.figures[0].value}
    assert len(pids) == 2 and float(os.getpid()) not in pids  # a process each, not this one
    assert one.figures[0].note == "True"
    assert missing.problem == "not built"
    assert failing.problem == "failed: RuntimeError: broker gone"
    assert any("progress of the built one" in line and "bench_quick_one: 1 figures" in line
               for line in said)  # fmt: skip
    assert "- bench_quick_failing: failed: RuntimeError: broker gone" in runner.render(outcomes)


def test_every_benchmark_module_is_run_in_the_order_of_the_issue() -> None:
    assert runner.MODULES == (
        "bench.bench_latency",
        "bench.bench_risk",
        "bench.bench_replay",
        "bench.bench_memory",
        "bench.bench_scale",
        "bench.bench_broker",
    )
    assert runner.load("bench.bench_latency") is not None
    assert runner.load("bench.bench_broker") is not None


def test_the_window_line_shows_a_queue_building_over_the_run() -> None:
    calls = [
        Call(f"CA{i}", "line", placed_at=100.0 + i, answer_ms=5.0, status=200) for i in range(25)
    ]
    page_ms = [50.0] * 10 + [900.0] * 9 + [None] + [4000.0] * 5  # one call never paged
    run = RateRun(1.0, 25, calls, page_ms, doubled=0, hops={})

    line = window_line(run, 10.0)

    assert "0-10 s 50/50/50" in line
    assert "10-20 s 900/900/900" in line  # the unpaged call is left out, not counted as 0
    assert "20-30 s 4000/4000/4000" in line


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 99.9) == 100.0
    assert percentile([7.0], 99) == 7.0


def test_dispatch_bench_help_says_it_needs_the_checkout() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0 and "bench" in result.output
    result = CliRunner().invoke(main, ["bench", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "Needs the repository checkout" in text and "python -m bench [--quick]" in text
    assert "--quick" in text
    # What the help says is where it looks: this checkout is found, with its runner.
    assert bench_cli.checkout() == ROOT
    assert (ROOT / "bench" / "__main__.py").is_file()


def test_dispatch_bench_without_the_checkout_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert bench_cli.checkout((tmp_path,)) is None
    monkeypatch.setattr(bench_cli, "checkout", lambda: None)
    result = CliRunner().invoke(main, ["bench", "--quick"])
    assert result.exit_code == 2
    assert "no bench/ folder found" in result.output
    assert "run it from the repository checkout" in result.output


async def test_the_instruction_count_harness_runs_the_agent_s_path() -> None:
    """bench/risk_path.py decodes, folds and decides what the worker would: the bench's
    workload raises levels, so a few hundred events decide something, the same each run."""
    from bench import risk_path
    from bench.bench_risk import workload
    from dispatch.events.codec import encode

    events = workload(600, 30, 30)
    records = [risk_path.Record("t", 0, i, e.key.encode(), encode(e)) for i, e in enumerate(events)]
    first = await risk_path.run(records)
    assert first > 0
    assert await risk_path.run(records) == first
