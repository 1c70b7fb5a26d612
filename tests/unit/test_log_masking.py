"""Phone numbers never reach a log line whole: a backstop masks them to the last digits."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest
import structlog

from dispatch.logs import configure_logging, mask_phone_numbers


def test_every_value_is_masked_down_to_four_digits() -> None:
    """E.164 numbers in any value (nested, in text, URL-encoded) and bare digit strings keep
    only their last four digits; ids, times and numbers that are not phones are untouched."""
    line = {
        "event": "call from +15550200001",
        "to": "+15005550001",
        "bare": "5550200001",
        "url": "http://sandbox/messages?to=%2B15550100002&after=3",
        "nested": {"phones": ["+442079460000", ("+15550100003",)]},
        "call_sid": "CA0123456789abcdef0123456789abcdef",
        "at": "2026-11-24T15:00:00+00:00",
        "count": 15550200001,
    }
    assert mask_phone_numbers(None, "info", line) == {
        "event": "call from +***0001",
        "to": "+***0001",
        "bare": "***0001",
        "url": "http://sandbox/messages?to=%2B***0002&after=3",
        "nested": {"phones": ["+***0000", ("+***0003",)]},
        "call_sid": "CA0123456789abcdef0123456789abcdef",
        "at": "2026-11-24T15:00:00+00:00",
        "count": 15550200001,
    }


@pytest.fixture
def json_stderr(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """JSON logging configured onto a stderr of our own; the previous set-up restored after."""
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging(fmt="json", level="info")
    yield stderr
    structlog.reset_defaults()
    root.handlers[:], root.level = handlers, level


def test_configured_output_is_masked_for_ours_and_the_libraries(json_stderr: io.StringIO) -> None:
    """Our structlog lines and stdlib lines (faust, aiokafka) both come out masked."""
    structlog.get_logger("t").warning("page_sent", phone="+15550100001")
    logging.getLogger("aiokafka").warning("dialling %s", "+15550100002")
    lines = [json.loads(raw) for raw in json_stderr.getvalue().splitlines()]
    assert lines[0]["phone"] == "+***0001" and lines[0]["event"] == "page_sent"
    assert lines[1]["event"] == "dialling +***0002"


def test_configured_output_holds_back_a_library_flood(json_stderr: io.StringIO) -> None:
    """Every process's logging keeps a library's reconnect flood (aiokafka logs each failed
    connect) to one line per kind; a different line still gets through at once."""
    flood = logging.getLogger("aiokafka.client")
    for _ in range(500):
        flood.error("Unable connect to node with id %s: %s", 111, "refused")
    flood.error("Unable to update metadata from %s", [111])
    lines = [json.loads(raw)["event"] for raw in json_stderr.getvalue().splitlines()]
    assert lines == [
        "Unable connect to node with id 111: refused",
        "Unable to update metadata from [111]",
    ]


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_tracebacks_are_logged_masked_and_without_local_values(
    fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A logged exception keeps its traceback in both formats (JSON used to carry only
    `"exc_info": true`), with phone numbers in its message masked and no frame's local
    values printed (a number or a token held in a local would pass the masking)."""
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging(fmt=fmt, level="info")
    try:
        secret_local = "tok-4f9a2c"
        try:
            raise ValueError("send to +15550100009 refused")
        except ValueError:
            logging.getLogger("asyncpg.pool").warning("pool retrying", exc_info=True)
            structlog.get_logger("t").exception("page_failed")
    finally:
        structlog.reset_defaults()
        root.handlers[:], root.level = handlers, level
    text = stderr.getvalue()
    assert text.count("ValueError: send to +***0009 refused") == 2
    assert text.count("Traceback (most recent call last)") == 2
    assert "0100009" not in text and secret_local not in text
