"""Logs that repeat while a part is down stay bounded and say how many lines they held back."""

from __future__ import annotations

import logging

from dispatch.log_throttle import LogThrottle, RepeatedRecordFilter


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_one_line_per_key_per_period_with_the_count_held_back() -> None:
    """A thousand repeats in one period give one line; the next period's line counts them."""
    clock = Clock()
    throttle = LogThrottle(every_s=30.0, clock=clock)
    assert throttle.allow(("rewound", 0)) == 0
    assert [throttle.allow(("rewound", 0)) for _ in range(1000)] == [None] * 1000
    assert throttle.allow(("rewound", 1)) == 0  # another partition has its own line
    clock.t = 30.0
    assert throttle.allow(("rewound", 0)) == 1000
    assert throttle.allow(("rewound", 0)) is None


def test_library_reconnect_lines_are_filtered_by_their_template() -> None:
    """aiokafka's 'Unable connect to node' lines differ in arguments only: one passes per period."""
    clock = Clock()
    repeated = RepeatedRecordFilter(every_s=30.0, clock=clock)

    def record(arg: object) -> logging.LogRecord:
        return logging.LogRecord(
            "aiokafka", logging.ERROR, "client.py", 1, "Unable connect to node %s", (arg,), None
        )

    passed = [repeated.filter(record(n)) for n in range(50)]
    assert passed == [True] + [False] * 49
    clock.t = 31.0
    later = record(99)
    assert repeated.filter(later)
    assert later.getMessage() == "Unable connect to node 99 [49 similar lines held back]"
