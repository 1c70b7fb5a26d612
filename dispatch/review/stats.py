"""Response-time statistics: nearest-rank percentiles rather than means (a long tail makes
a mean misleading) and the share of incidents answered within a limit."""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import Field

from dispatch.review.facts import ReviewModel

METHOD = "nearest-rank"


def nearest_rank(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile by the nearest-rank method: the value at rank ceil(p/100 * n) of
    the sorted values (rank 1 for p = 0); always one of the values, never interpolated.
    None when there are no values."""
    if not 0 <= p <= 100:
        raise ValueError("p must be between 0 and 100")
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def share_within(values: Sequence[float | None], limit_s: float) -> float | None:
    """The fraction of all the incidents (values None: never acknowledged) answered within
    `limit_s`; None when there were no incidents."""
    if not values:
        return None
    return sum(1 for v in values if v is not None and v <= limit_s) / len(values)


class Spread(ReviewModel):
    """Seconds: how many values, their p50, p90 and maximum (nearest-rank percentiles)."""

    count: int
    p50_s: float | None
    p90_s: float | None
    max_s: float | None
    method: str = Field(default=METHOD, description="how the percentiles are taken")


def spread(values: Sequence[float]) -> Spread:
    return Spread(
        count=len(values),
        p50_s=nearest_rank(values, 50),
        p90_s=nearest_rank(values, 90),
        max_s=max(values) if values else None,
    )
