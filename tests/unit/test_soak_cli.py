"""`dispatch soak` on the command line: listed, and refused before starting on bad options."""

from __future__ import annotations

from click.testing import CliRunner

from dispatch.cli import main


def test_help_lists_soak() -> None:
    """`dispatch --help` names the soak command."""
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0 and "soak" in result.output


def test_an_unknown_fault_is_refused_by_name() -> None:
    """A misspelt fault is a usage error naming it and the choices; nothing is started."""
    result = CliRunner().invoke(main, ["soak", "--minutes", "0.1", "--faults", "worker,kafka"])
    assert result.exit_code == 2
    assert "'kafka'" in result.output and "worker, broker, postgres, twilio" in result.output


def test_load_bounds_are_enforced() -> None:
    """More than 30 minutes or 20 calls a second is refused."""
    assert CliRunner().invoke(main, ["soak", "--minutes", "31"]).exit_code == 2
    assert CliRunner().invoke(main, ["soak", "--rate", "50"]).exit_code == 2
