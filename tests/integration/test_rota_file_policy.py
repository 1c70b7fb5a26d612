"""Escalation policies in rota files: validated, loaded to Kafka, projected, exported back."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from dispatch.cli import main
from dispatch.escalation.events import EscalationPolicySet
from dispatch.escalation.policy import EscalationPolicy
from dispatch.rota.events import TeamFormed
from dispatch.rota.rotafile import RotaFileError, export, parse, to_events
from dispatch.rota.state import fold
from tests.integration.test_rota_cli import project_all, read_team_events
from tests.unit.test_rota_file import GOOD, NOW

POLICY: dict[str, Any] = {
    "steps": [
        {"targets": ["primary"], "channels": ["sms"], "ack_timeout_s": 120},
        {"targets": ["backup", "team_lead"], "channels": ["sms", "voice"], "ack_timeout_s": 180},
        {"targets": ["whole_team", "manager"], "ack_timeout_s": 300},
    ],
    "rounds": 3,
    "exhausted_repeat_s": 600,
}


def _file(team_id: str, policy: Any = POLICY, name: str = "ICM East") -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(yaml.safe_dump(GOOD))
    data["team"].update(id=team_id, name=name)
    data["escalation_policy"] = policy
    return data


def test_policy_becomes_an_escalation_policy_set_and_round_trips() -> None:
    """A file's policy is published last as EscalationPolicySet; exported, it reads back."""
    events = to_events(parse(yaml.safe_dump(_file("icm-p"))), now=NOW, actor="test")
    last = events[-1].payload
    assert isinstance(last, EscalationPolicySet) and last.team_id == "icm-p"
    assert last.policy == EscalationPolicy.model_validate(POLICY)
    exported = export(fold(events).team("icm-p"), last.policy)
    reloaded = to_events(parse(yaml.safe_dump(exported)), now=NOW, actor="test")
    assert [e.payload for e in reloaded] == [e.payload for e in events]


def test_file_without_policy_publishes_none() -> None:
    """No escalation_policy key: no EscalationPolicySet (the team keeps its current one)."""
    data = _file("icm-q")
    del data["escalation_policy"]
    events = to_events(parse(yaml.safe_dump(data)), now=NOW, actor="test")
    assert not any(isinstance(e.payload, EscalationPolicySet) for e in events)


@pytest.mark.parametrize(
    ("policy", "field"),
    [
        ({"steps": []}, "escalation_policy.steps"),
        ({"steps": [{"targets": ["primary"]}]}, "escalation_policy.steps[0].ack_timeout_s"),
        ({"steps": [{"targets": ["boss"], "ack_timeout_s": 60}]},
         "escalation_policy.steps[0].targets[0]"),
        ({"steps": [{"targets": ["primary"], "channels": ["fax"], "ack_timeout_s": 60}]},
         "escalation_policy.steps[0].channels[0]"),
        ({"steps": [{"targets": ["primary"], "ack_timeout_s": 0}]},
         "escalation_policy.steps[0].ack_timeout_s"),
        ({"steps": [{"targets": ["primary"], "ack_timeout_s": 60}], "rounds": 0},
         "escalation_policy.rounds"),
        ({"steps": [{"targets": ["primary"], "ack_timeout_s": 60}], "exhausted_repeat_s": -1},
         "escalation_policy.exhausted_repeat_s"),
        ({"steps": [{"targets": ["whole_team"], "ack_timeout_s": 60}]}, "escalation_policy"),
        ({"steps": [{"targets": ["primary"], "ack_timeout_s": 60}], "colour": 1},
         "escalation_policy.colour"),
    ],
)  # fmt: skip
def test_bad_policy_is_refused_naming_the_field(policy: Any, field: str) -> None:
    """Each kind of bad policy is refused with its path in the message."""
    with pytest.raises(RotaFileError) as err:
        parse(yaml.safe_dump(_file("icm-bad", policy)))
    assert str(err.value).split(":")[0] == field


def test_load_project_export_policy(tmp_path: Path, kafka_bootstrap: str, pg_url: str) -> None:
    """`rota load` publishes the policy, the projection keeps it, `rota export` writes it
    back; a bad policy before it published nothing for the team."""
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "DATABASE_URL": pg_url}
    runner = CliRunner()
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(_file("icm-pol", {"steps": []}, name="BAD LOAD")))
    refused = runner.invoke(main, ["rota", "load", str(bad), "--by", "s-lead"], env=env)
    assert refused.exit_code == 2 and "escalation_policy.steps" in refused.output

    good = tmp_path / "rota.yaml"
    good.write_text(yaml.safe_dump(_file("icm-pol")))
    loaded = runner.invoke(main, ["rota", "load", str(good), "--by", "s-lead"], env=env)
    assert loaded.exit_code == 0, loaded.output
    assert "published 7 events" in loaded.output
    events = asyncio.run(read_team_events(kafka_bootstrap, "icm-pol", 7))
    assert [e.type for e in events][-1] == "EscalationPolicySet"
    names = [e.payload.name for e in events if isinstance(e.payload, TeamFormed)]
    assert names == ["ICM East"]  # the refused file's TeamFormed never reached Kafka
    asyncio.run(project_all(pg_url, events))

    exported = runner.invoke(main, ["rota", "export", "--team", "icm-pol"], env=env)
    assert exported.exit_code == 0, exported.output
    data = yaml.safe_load(exported.output)
    assert EscalationPolicy.model_validate(data["escalation_policy"]) == (
        EscalationPolicy.model_validate(POLICY)
    )
    assert parse(exported.output).escalation_policy == EscalationPolicy.model_validate(POLICY)
