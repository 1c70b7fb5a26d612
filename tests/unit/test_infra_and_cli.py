"""infra/ files parse and agree with the code; the CLI's help is complete."""

from __future__ import annotations

from pathlib import Path

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
