"""The local append-only spool: where an accepted event goes when PostgreSQL refuses it.

One JSON line per event (the event as it travels on Kafka), flushed and fsync'ed before
`append` returns, so the webhook answers only once the event is on disk. Moving it into
PostgreSQL is crash-safe in three steps, each one atomic on a POSIX file system:

1. `claim`: `pending.jsonl` is renamed to `moving-<n>.jsonl` (later appends start a new
   pending file); claimed files left by a process that died mid-move are claimed again.
2. the caller inserts every line of a claimed file (idempotent: ON CONFLICT DO NOTHING on
   the event id), in file order;
3. `done`: the claimed file is deleted.

A process dying anywhere in between leaves the claimed file in place: it is moved again,
and what was already inserted is not inserted twice. A line torn by a crash mid-append
(never acknowledged to the caller) is set aside in `unreadable.jsonl` for a person, never
silently dropped. The methods block on disk I/O: call them through `asyncio.to_thread`.
Appends and claims from several processes sharing the directory are serialised by a lock
file (flock).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

PENDING = "pending.jsonl"
UNREADABLE = "unreadable.jsonl"
_LOCK = ".lock"
_MOVING = "moving-"


class FallbackFile:
    """The fallback spool in `directory` (created on first use)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    @property
    def pending_path(self) -> Path:
        return self.directory / PENDING

    def append(self, lines: Sequence[bytes]) -> None:
        """Append one line per item and make it durable (file and directory fsync'ed)."""
        if any(b"\n" in line for line in lines):
            raise ValueError("a spooled event must be one line")
        with self._locked():
            created = not self.pending_path.exists()
            fd = os.open(self.pending_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                prefix = b"" if created or _ends_a_line(self.pending_path) else b"\n"
                _write_all(fd, prefix + b"".join(line + b"\n" for line in lines))
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                self._sync_directory()

    def claim(self) -> list[Path]:
        """The files to move, oldest first: earlier claims first, then the pending file."""
        with self._locked():
            claimed = self._claimed()
            if self.pending_path.exists() and self.pending_path.stat().st_size > 0:
                number = _number(claimed[-1]) + 1 if claimed else 1
                target = self.directory / f"{_MOVING}{number:08d}.jsonl"
                os.replace(self.pending_path, target)
                self._sync_directory()
                claimed.append(target)
            return claimed

    def lines(self, claimed: Path) -> Iterator[bytes]:
        """The non-empty lines of a claimed file, in the order they were appended."""
        for line in claimed.read_bytes().splitlines():
            if line.strip():
                yield line

    def set_aside(self, line: bytes) -> None:
        """Keep a line that is not an event for a person to look at (fsync'ed)."""
        with self._locked():
            fd = os.open(self.directory / UNREADABLE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                _write_all(fd, line.replace(b"\n", b" ") + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)

    def done(self, claimed: Path) -> None:
        """Every line of `claimed` is in PostgreSQL: delete it (durably)."""
        with self._locked():
            claimed.unlink(missing_ok=True)
            self._sync_directory()

    def empty(self) -> bool:
        """Nothing waits to be moved."""
        pending = self.pending_path.exists() and self.pending_path.stat().st_size > 0
        return not pending and not (self.directory.exists() and self._claimed())

    def waiting(self) -> list[bytes]:
        """Every line not moved yet, in the order it will be moved (claimed, then pending)."""
        files = [*self._claimed(), self.pending_path] if self.directory.exists() else []
        return [line for path in files if path.exists() for line in self.lines(path)]

    def backlog(self) -> int:
        """How many lines wait to be moved (pending and claimed files)."""
        return len(self.waiting())

    # --- helpers -------------------------------------------------------------------------
    def _claimed(self) -> list[Path]:
        return sorted(self.directory.glob(f"{_MOVING}*.jsonl"), key=_number)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory / _LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _sync_directory(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _number(path: Path) -> int:
    return int(path.stem.removeprefix(_MOVING))


def _ends_a_line(path: Path) -> bool:
    """The file is empty or ends with a newline (a crash mid-append leaves it torn)."""
    with path.open("rb") as f:
        f.seek(0, os.SEEK_END)
        if f.tell() == 0:
            return True
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
