"""The journey commands read their options like the API reads a body: bad input exits 2
naming the option before anything connects; every command explains itself in --help."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from dispatch.cli import main

JOURNEY_COMMANDS = [
    ["referral", "receive"], ["referral", "accept"], ["referral", "decline"],
    ["client", "enrol"], ["client", "transfer"], ["client", "discharge"],
    ["client", "re-refer"], ["contact"], ["careplan", "record"], ["careplan", "review"],
]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["contact", "c-1", "--kind", "phone", "--staff", "s-a", "--minutes", "0"], "--minutes"),
        (["contact", "c-1", "--kind", "phone", "--staff", "s-a", "--at", "2026-05-01T10:00"],
         "--at"),
        (["client", "enrol", "c-1", "--team", "t", "--phone", "12345", "--by", "s-a"], "--phone"),
        (["referral", "receive", "c-1", "--team", "t", "--name", "A", "--source", "cmht",
          "--criterion", "Not A Code", "--by", "s-a"], "--criterion"),
        (["client", "discharge", "c-1", "--reason", "", "--by", "s-a"], "--reason"),
    ],
)  # fmt: skip
def test_bad_options_exit_2_naming_the_option_before_connecting(
    args: list[str], option: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No stack is configured: the refusal names the option, so nothing was attempted."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and option in result.output, result.output


@pytest.mark.parametrize("command", JOURNEY_COMMANDS, ids=" ".join)
def test_every_journey_command_has_help(command: list[str]) -> None:
    """`--help` explains the command and its options."""
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output and "--" in result.output
    assert len(result.output.split("Options:")[0].strip().splitlines()) >= 3
