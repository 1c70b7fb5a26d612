"""`dispatch restore` says what it needs before touching anything."""

from __future__ import annotations

from click.testing import CliRunner

from dispatch.cli import main


def test_restore_without_broker_or_database_names_both_variables() -> None:
    """With no broker or database configured, restore refuses and names the variables."""
    env = {"KAFKA_BOOTSTRAP_SERVERS": "", "DATABASE_URL": ""}
    result = CliRunner(env=env).invoke(main, ["restore"])
    assert result.exit_code == 2
    assert "KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL" in result.output


def test_help_lists_restore() -> None:
    """`dispatch --help` lists the restore command with its one-line summary."""
    result = CliRunner().invoke(main, ["--help"])
    assert "restore" in result.output and "event archive" in result.output
