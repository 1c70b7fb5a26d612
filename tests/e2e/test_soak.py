"""`dispatch soak` on a stack of its own: with no fault, every call is dialled and paged once."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

SOAK_TIMEOUT_S = 300  # 15 s of calls, the stack's start and stop, at most 120 s of settling


def figure(output: str, label: str) -> str:
    match = re.search(rf"^  {re.escape(label)} +(.+)$", output, re.MULTILINE)
    assert match, f"no {label!r} in:\n{output}"
    return match.group(1)


@pytest.mark.soak
def test_a_short_soak_without_faults_loses_and_doubles_nothing() -> None:
    """30 calls in 15 s: all dialled, dispatched and paged once, and the command exits 0."""
    run = subprocess.run(
        [sys.executable, "-m", "dispatch.cli", "soak", "--minutes", "0.25", "--rate", "2"],
        capture_output=True,
        text=True,
        timeout=SOAK_TIMEOUT_S,
        check=False,
    )
    out = run.stdout
    assert run.returncode == 0, f"{out}\n{run.stderr[-3000:]}"
    assert figure(out, "calls placed") == "30"
    assert figure(out, "answered with a dial") == "30"
    assert figure(out, "answered otherwise") == "0"
    assert figure(out, "dispatches opened") == "30"
    assert figure(out, "first pages sent") == "30"
    assert figure(out, "duplicates") == "0"
    assert figure(out, "losses") == "0"
    assert figure(out, "restarted") == "nothing restarted"  # supervised, as `dispatch up` runs
    p50, p99, most = re.findall(r"([\d.]+) s", figure(out, "ring-to-page p50/p99/max"))
    assert 0 < float(p50) <= float(p99) <= float(most) < 30
    assert out.rstrip().endswith("Verdict: pass: 0 lost, 0 doubled, all dialled")
