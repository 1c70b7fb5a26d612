"""The local append-only spool file: every acknowledged line survives a crash at any step."""

from __future__ import annotations

from pathlib import Path

import pytest

from dispatch.ingress.fallback_file import PENDING, UNREADABLE, FallbackFile


def test_appended_lines_are_claimed_in_order_and_gone_when_done(tmp_path: Path) -> None:
    """Lines come back in the order appended; after `done` nothing is left to move."""
    spool = FallbackFile(tmp_path / "fb")
    spool.append([b'{"n":1}', b'{"n":2}'])
    spool.append([b'{"n":3}'])
    assert spool.backlog() == 3
    (claimed,) = spool.claim()
    assert list(spool.lines(claimed)) == [b'{"n":1}', b'{"n":2}', b'{"n":3}']
    spool.done(claimed)
    assert spool.empty() and spool.backlog() == 0 and spool.claim() == []


def test_appends_during_a_move_wait_in_a_new_pending_file(tmp_path: Path) -> None:
    """An event accepted while earlier ones are being moved is neither lost nor reordered."""
    spool = FallbackFile(tmp_path)
    spool.append([b"first"])
    (claimed,) = spool.claim()
    spool.append([b"second"])
    spool.done(claimed)
    assert not spool.empty()
    (next_claim,) = spool.claim()
    assert list(spool.lines(next_claim)) == [b"second"]


def test_a_crash_mid_move_leaves_the_claimed_file_for_the_next_process(tmp_path: Path) -> None:
    """The process dies after claiming (and perhaps inserting some lines): a new process
    claims the same file again, before anything appended later, with every line intact."""
    FallbackFile(tmp_path).append([b"a", b"b"])
    assert FallbackFile(tmp_path).claim()  # ... and the process dies here, before `done`
    restarted = FallbackFile(tmp_path)
    restarted.append([b"c"])
    first, second = restarted.claim()
    assert list(restarted.lines(first)) == [b"a", b"b"]
    assert list(restarted.lines(second)) == [b"c"]
    assert restarted.backlog() == 3


def test_a_line_torn_by_a_crash_does_not_swallow_the_next_event(tmp_path: Path) -> None:
    """A half-written line (the process died mid-append, nothing was acknowledged) stays on
    its own line; the next event is appended whole after it."""
    spool = FallbackFile(tmp_path)
    spool.append([b'{"n":1}'])
    with (tmp_path / PENDING).open("ab") as torn:
        torn.write(b'{"n":2, "half')
    spool.append([b'{"n":3}'])
    (claimed,) = spool.claim()
    assert list(spool.lines(claimed)) == [b'{"n":1}', b'{"n":2, "half', b'{"n":3}']
    spool.set_aside(b'{"n":2, "half')
    assert (tmp_path / UNREADABLE).read_bytes() == b'{"n":2, "half\n'


def test_a_line_must_be_one_line(tmp_path: Path) -> None:
    """An event containing a newline would split into two unreadable lines: refused."""
    with pytest.raises(ValueError, match="one line"):
        FallbackFile(tmp_path).append([b"two\nlines"])
    assert FallbackFile(tmp_path).empty()
