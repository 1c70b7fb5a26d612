"""Shared fixtures: each real part of the stack lives in its own plugin module."""

import os
import sys
from collections.abc import Iterator

import pytest
import structlog

# tansu holds every consumer group join for half the session timeout (decision 003): with
# the product's 6 s, each stack start waited 3 s for its projector and 3 s for its worker's
# groups, and each worker restart 3 s more. The tests' stacks, and the commands they run as
# subprocesses (which inherit this environment), use 2 s: a join takes 1 s (decision 061).
# A test that passes its own value still wins; a value set by whoever runs pytest is kept.
for _name, _value in {
    "BROKER_SESSION_TIMEOUT_S": "2.0",
    "BROKER_HEARTBEAT_INTERVAL_S": "0.5",
}.items():
    os.environ.setdefault(_name, _value)

pytest_plugins = [
    "tests.fixtures.broker",
    "tests.fixtures.postgres",
    "tests.fixtures.twilio",
]


def _to_stderr(*_args: object) -> structlog.PrintLogger:
    return structlog.PrintLogger(sys.stderr)  # sys.stderr now: pytest's or a CliRunner's


def pytest_configure(config: pytest.Config) -> None:
    """Log lines go to stderr, as every command's do (dispatch.logs). structlog's default
    prints to stdout: a stack running in the test process then wrote its lines into the
    stdout of a command a test ran in-process (CliRunner swaps sys.stdout for the whole
    process), before the command configured its own logging. `dispatch huddle --json`
    was once seen with a projector line ahead of its JSON that way."""
    structlog.configure(logger_factory=_to_stderr)


@pytest.fixture(autouse=True)
def _structlog_config_restored() -> Iterator[None]:
    """A command run in-process (CliRunner) configures logging for the whole process; each
    test gets back the configuration it started with, so log assertions stay independent."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)
