"""One figure of a benchmark run, beside its ceiling and target, and the Markdown table of them.

Every benchmark module of this package exposes `async def figures(quick: bool) -> list[Figure]`;
`python -m bench` runs them in turn and prints one table. Figures are printed, never asserted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """A measured figure: e.g. the risk agent's events/s beside the in-process fold's."""

    path: str  # which path of the system: "ring to page", "risk pipeline", "replay", ...
    name: str  # what was measured: "p99 at 10 calls/s", "faust agent, 1 worker"
    value: float
    unit: str  # "ms", "events/s", "bytes/client"
    ceiling_name: str = ""  # what it is compared with: "raw aiokafka consume", "plain SQL"
    ceiling: float | None = None
    target: str = ""  # the target in words: ">= 15,000 events/s", "< 100 ms"
    met: bool | None = None  # None when the figure has no target of its own
    note: str = ""  # how it was run (events, duration, load) when it matters

    @property
    def ratio(self) -> float | None:
        if self.ceiling is None or self.ceiling == 0:
            return None
        return self.value / self.ceiling


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def markdown(figures: Iterable[Figure]) -> str:
    """The table README's Performance section shows."""
    lines = [
        "| path | figure | value | ceiling | ratio | target | met |",
        "| --- | --- | ---: | --- | ---: | --- | :---: |",
    ]
    for f in figures:
        ceiling = ""
        if f.ceiling is not None:
            ceiling = f"{f.ceiling_name}: {_number(f.ceiling)} {f.unit}"
        ratio = f"{f.ratio:.2f}" if f.ratio is not None else ""
        met = "" if f.met is None else ("yes" if f.met else "**no**")
        name = f"{f.name} ({f.note})" if f.note else f.name
        lines.append(
            f"| {f.path} | {name} | {_number(f.value)} {f.unit} | {ceiling} | {ratio} "
            f"| {f.target} | {met} |"
        )
    return "\n".join(lines)
