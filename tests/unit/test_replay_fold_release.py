"""A replay lets its folded rows go by reference count when it is done: the folds' handlers
are bound methods of the folds (a reference cycle), and a long replay's rows left to the
cycle collector made one walk of them all, about 0.5 s after 300,000 events, inside the
replay's time (docs/decisions/042)."""

from __future__ import annotations

import gc

from projections.replay_fold import Folds
from tests.integration.replay_history import Shape, history


def folded() -> tuple[Folds, int]:
    folds = Folds()
    for event in history(Shape(seed=7, incidents=80, episodes=160)):
        if folds.owns(type(event.payload)):
            folds.apply(event)
    return folds, sum(len(t.rows) + len(t.new) for t in folds.tables)


def left_for_the_collector(release: bool) -> int:
    """How many objects only the cycle collector frees once a replay drops its folds."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        folds, rows = folded()
        assert rows > 500  # the history folds into many rows
        if release:
            folds.release()
        del folds
        return gc.collect()
    finally:
        if was_enabled:
            gc.enable()


def test_released_folds_leave_their_rows_to_reference_counting() -> None:
    assert left_for_the_collector(release=False) > 1_000  # the cycle holds every row
    assert left_for_the_collector(release=True) < 100


def test_a_released_fold_holds_nothing() -> None:
    folds, _ = folded()
    folds.release()
    assert all(not (t.rows or t.new or t.written or t.changed) for t in folds.tables)
    assert not folds.by_type
