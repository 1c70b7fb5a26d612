"""Shared fixtures: each real part of the stack lives in its own plugin module."""

pytest_plugins = [
    "tests.fixtures.broker",
    "tests.fixtures.postgres",
    "tests.fixtures.twilio",
]
