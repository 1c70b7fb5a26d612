"""Chart geometry for the report: plain shapes with coordinates, classes and tooltips.

The template turns each Shape into one SVG element (values escaped there); nothing here
writes markup, so no text from an event can become markup.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

WIDTH = 760
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 14, 34


@dataclass(frozen=True)
class Shape:
    kind: str  # rect | circle | line | text | polyline
    attrs: tuple[tuple[str, str], ...]
    cls: str = ""
    text: str = ""
    title: str = ""


@dataclass(frozen=True)
class Chart:
    chart_id: str
    title: str
    description: str
    height: int
    shapes: tuple[Shape, ...]
    width: int = WIDTH
    note: str = ""


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def rect(x: float, y: float, w: float, h: float, cls: str, title: str = "") -> Shape:
    attrs = (("x", _n(x)), ("y", _n(y)), ("width", _n(max(w, 0))), ("height", _n(max(h, 0))))
    return Shape("rect", attrs, cls, title=title)


def circle(x: float, y: float, r: float, cls: str, title: str = "") -> Shape:
    return Shape("circle", (("cx", _n(x)), ("cy", _n(y)), ("r", _n(r))), cls, title=title)


def line(x1: float, y1: float, x2: float, y2: float, cls: str) -> Shape:
    return Shape("line", (("x1", _n(x1)), ("y1", _n(y1)), ("x2", _n(x2)), ("y2", _n(y2))), cls)


def label(x: float, y: float, text: str, cls: str = "label", anchor: str = "middle") -> Shape:
    return Shape("text", (("x", _n(x)), ("y", _n(y)), ("text-anchor", anchor)), cls, text=text)


def polyline(points: Sequence[tuple[float, float]], cls: str, title: str = "") -> Shape:
    joined = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
    return Shape("polyline", (("points", joined),), cls, title=title)


@dataclass(frozen=True)
class Plot:
    """The drawing area of a chart of `height`: maps values to pixels."""

    height: int
    left: int = LEFT
    width: int = WIDTH
    shapes: list[Shape] = field(default_factory=list)

    @property
    def x0(self) -> float:
        return self.left

    @property
    def x1(self) -> float:
        return self.width - RIGHT

    @property
    def y0(self) -> float:
        return self.height - BOTTOM  # the baseline

    @property
    def y1(self) -> float:
        return TOP

    def x(self, fraction: float) -> float:
        return self.x0 + (self.x1 - self.x0) * min(max(fraction, 0.0), 1.0)

    def y(self, value: float, top: float) -> float:
        return self.y0 - (self.y0 - self.y1) * (min(max(value, 0.0), top) / top if top else 0)

    def add(self, *shapes: Shape) -> None:
        self.shapes.extend(shapes)

    def y_axis(self, top: float, ticks: Sequence[float], text: Callable[[float], str]) -> None:
        for value in ticks:
            y = self.y(value, top)
            self.add(
                line(self.x0, y, self.x1, y, "grid"),
                label(self.x0 - 6, y + 4, text(value), anchor="end"),
            )
        self.add(line(self.x0, self.y0, self.x1, self.y0, "axis"))

    def chart(self, chart_id: str, title: str, description: str, note: str = "") -> Chart:
        return Chart(chart_id, title, description, self.height, tuple(self.shapes), note=note)


def nice_top(value: float, floor: float) -> float:
    """A round upper bound at or above value (and floor): 1, 2 or 5 times a power of ten."""
    value = max(value, floor)
    power = 10.0 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= value)


def ticks(top: float) -> list[float]:
    """Gridline values from 0 to a nice_top: whole numbers whenever the top allows."""
    mantissa = top / 10.0 ** math.floor(math.log10(top))
    parts = 5 if round(mantissa) in (1, 5, 10) else 4
    return [top * k / parts for k in range(parts + 1)]


def fraction(at: datetime, start: datetime, end: datetime) -> float:
    span = (end - start).total_seconds()
    return (at - start).total_seconds() / span if span > 0 else 0.0


def short_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"
