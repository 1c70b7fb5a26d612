"""structlog set-up: JSON lines in production, readable lines in a terminal.

Every line, ours and the libraries', passes `mask_phone_numbers` last before it is
rendered: a backstop, so that a phone number logged by mistake shows only its last digits.
The libraries' lines also pass a throttle (dispatch/log_throttle.py): aiokafka logs every
failed reconnect, and a broker down for minutes must not flood the log of any process.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from dispatch.log_throttle import RepeatedRecordFilter

# An E.164 number (+ and 7-15 digits), also URL-encoded (%2B...), or a value of digits only.
_PHONE = re.compile(r"(\+|%2[bB])(\d{3,11})(\d{4})(?!\d)")
_DIGITS_ONLY = re.compile(r"\d{3,11}(\d{4})")
KEPT_DIGITS = 4


def mask(value: Any) -> Any:
    """`value` with every phone number in it masked down to its last four digits."""
    if isinstance(value, str):
        if _DIGITS_ONLY.fullmatch(value):
            return "***" + value[-KEPT_DIGITS:]
        return _PHONE.sub(lambda m: f"{m.group(1)}***{m.group(3)}", value)
    if isinstance(value, dict):
        return {key: mask(item) for key, item in value.items()}
    if type(value) in (list, tuple):
        return type(value)(mask(item) for item in value)
    return value


def mask_phone_numbers(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor: mask phone numbers in every value of the line."""
    return {key: mask(value) for key, value in event_dict.items()}


def configure_logging(*, fmt: str = "console", level: str = "info") -> None:
    """Configure structlog and route stdlib logging (faust, aiokafka) through the same output,
    each repeated library line at most once per 30 s with a count of those held back."""
    stamped: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        # A traceback becomes the line's `exception` text before the masking, so a number
        # in an exception's message is masked too; frames' local values are never printed.
        structlog.processors.format_exc_info,
        mask_phone_numbers,
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[*stamped, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *stamped,
                renderer,
            ],
            foreign_pre_chain=[],
        )
    )
    handler.addFilter(RepeatedRecordFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
