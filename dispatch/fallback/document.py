"""The fallback TwiML document: say one sentence, then dial the default crisis number."""

from __future__ import annotations

import os
from pathlib import Path

from integrations.twilio import twiml

PUT_THROUGH = "Connecting you to the crisis service."


def fallback_twiml(number: str) -> str:
    """What Twilio plays to a caller when the web edge cannot answer: `number` is dialled."""
    if not number.startswith("+") or not number[1:].isdigit():
        raise ValueError(f"the fallback number must be E.164 (+ and digits), not {number!r}")
    return twiml.fallback_message(PUT_THROUGH, number)


def write_fallback_twiml(path: Path, number: str) -> Path:
    """Write the document to `path` atomically (a reader sees the old one or the new one)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(fallback_twiml(number))
    with temporary.open("rb") as f:
        os.fsync(f.fileno())
    os.replace(temporary, path)
    return path
