"""The child's side of `ServerChild`'s port file. Standard library only: the fallback TwiML
server imports it and runs with none of the app's dependencies."""

from __future__ import annotations

from pathlib import Path


def write_port(port_file: Path, port: int) -> None:
    """The port, written whole: the parent polls for a non-empty file and reads a number."""
    partial = port_file.with_suffix(".partial")
    partial.write_text(str(port))
    partial.replace(port_file)
