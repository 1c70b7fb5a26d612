"""Shared fixtures: each real part of the stack lives in its own plugin module."""

from collections.abc import Iterator

import pytest
import structlog

pytest_plugins = [
    "tests.fixtures.broker",
    "tests.fixtures.postgres",
    "tests.fixtures.twilio",
]


@pytest.fixture(autouse=True)
def _structlog_config_restored() -> Iterator[None]:
    """A command run in-process (CliRunner) configures logging for the whole process; each
    test gets back the configuration it started with, so log assertions stay independent."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)
