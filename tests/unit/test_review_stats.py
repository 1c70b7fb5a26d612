"""Nearest-rank percentiles and shares within a limit, as the team figures use them."""

from __future__ import annotations

import pytest

from dispatch.review.stats import nearest_rank, share_within, spread

VALUES = [40.0, 15.0, 50.0, 20.0, 35.0]  # unsorted on purpose


@pytest.mark.parametrize(
    ("p", "expected"),
    [(0, 15.0), (5, 15.0), (20, 15.0), (21, 20.0), (30, 20.0), (40, 20.0), (50, 35.0),
     (60, 35.0), (61, 40.0), (80, 40.0), (90, 50.0), (100, 50.0)],
)  # fmt: skip
def test_nearest_rank_takes_the_value_at_rank_ceil_p_n(p: float, expected: float) -> None:
    """The p-th percentile is the value at rank ceil(p/100 * n) of the sorted values, never a
    value in between (5 values: p20 is the 1st, p21 the 2nd, p90 the 5th)."""
    assert nearest_rank(VALUES, p) == expected


def test_percentiles_of_nothing_and_of_one_value() -> None:
    """No incidents: no percentile; one incident: it is every percentile."""
    assert nearest_rank([], 50) is None
    assert [nearest_rank([7.0], p) for p in (0, 50, 90, 100)] == [7.0, 7.0, 7.0, 7.0]


def test_a_percentile_outside_0_to_100_is_refused() -> None:
    """Asking for p101 or p-1 is a programming error, not a figure."""
    for p in (-1, 101):
        with pytest.raises(ValueError, match="between 0 and 100"):
            nearest_rank(VALUES, p)


def test_p90_of_ten_is_the_ninth_and_of_eleven_the_tenth() -> None:
    """n = 10: rank 9; n = 11: rank ceil(9.9) = 10 (the long tail is not averaged away)."""
    ten = [float(i) for i in range(1, 11)]
    assert nearest_rank(ten, 90) == 9.0
    assert nearest_rank([*ten, 1000.0], 90) == 10.0


def test_share_within_counts_unacknowledged_incidents_as_not_within() -> None:
    """Of four incidents, one answered in exactly 5 min, one in 5 min 1 s, one never:
    within 5 min is 2 of 4 (the limit itself counts)."""
    assert share_within([60.0, 300.0, 301.0, None], 300) == 0.5
    assert share_within([], 300) is None


def test_spread_names_its_method() -> None:
    """The figures say they are nearest-rank percentiles, with the count and the maximum."""
    got = spread(VALUES)
    assert (got.count, got.p50_s, got.p90_s, got.max_s, got.method) == (
        5, 35.0, 50.0, 50.0, "nearest-rank",
    )  # fmt: skip
    assert spread([]).p50_s is None
