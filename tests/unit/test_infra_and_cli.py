"""infra/ files parse and agree with the code; the CLI's help is complete."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from dispatch.cli import main
from dispatch.topics import topic_specs

ROOT = Path(__file__).resolve().parents[2]


def test_compose_file_parses_and_runs_our_commands() -> None:
    """The compose file parses and every command it runs is one `dispatch` accepts."""
    compose = yaml.safe_load((ROOT / "infra" / "compose.yaml").read_text())
    services = compose["services"]
    assert {"kafka-1", "kafka-2", "kafka-3", "postgres", "worker", "web", "topics"} <= set(services)
    runner = CliRunner()
    for name in ("worker", "web", "topics"):
        command = services[name]["command"]
        assert command[0] == "dispatch"
        result = runner.invoke(main, [*command[1:], "--help"])
        assert result.exit_code == 0, (name, result.output)


def test_event_topics_keep_everything_on_a_cluster() -> None:
    """Event topics are kept forever and need two in-sync replicas on a real cluster."""
    for spec in topic_specs():
        assert spec.config["retention.ms"] == "-1"
        assert spec.config["min.insync.replicas"] == "2"
        assert spec.replication_factor == 3


def test_help_lists_every_command() -> None:
    """`dispatch --help` names every command a user can run."""
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("demo", "up", "worker", "topics"):
        assert command in result.output


def test_topics_create_without_cluster_names_the_variable() -> None:
    """Provisioning with no cluster configured says which variable to set."""
    result = CliRunner(env={"KAFKA_BOOTSTRAP_SERVERS": ""}).invoke(main, ["topics", "create"])
    assert result.exit_code == 2
    assert "KAFKA_BOOTSTRAP_SERVERS" in result.output


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (["up"], {"RISK_READER_COMMIT_INTERVAL_S": "99"}, "RISK_READER_COMMIT_INTERVAL_S='99'"),
        (["rota", "show", "--team", "t1"], {"WEB_PORT": "abc"}, "WEB_PORT='abc'"),
    ],
)
def test_a_setting_that_does_not_validate_is_named_and_nothing_starts(
    args: list[str], env: dict[str, str], named: str, tmp_path: Path
) -> None:
    """A bad value in the environment: the variable, what it held and why it is refused, on
    stderr, exit 2, before anything starts (no stack, nothing written to the state dir)."""
    state = tmp_path / "state"
    result = CliRunner(env={**env, "STATE_DIR": str(state)}).invoke(main, args)
    assert result.exit_code == 2, result.output
    assert named in result.stderr
    assert "Traceback" not in result.output
    assert not state.exists()
