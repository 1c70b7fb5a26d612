"""Topic definitions, read from infra/topics.yaml (the one place they are declared)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

CLIENT_EVENTS = "act.client-events"
ROSTER_EVENTS = "act.roster-events"
DISPATCH_EVENTS = "act.dispatch-events"
PAGE_EVENTS = "act.page-events"
DEAD_LETTERS = "act.dead-letters"  # what an agent could not handle (JSON, not events)


@dataclass(frozen=True)
class TopicSpec:
    name: str
    key: str
    events: tuple[str, ...]
    partitions: int
    replication_factor: int
    config: dict[str, str] = field(default_factory=dict)

    @property
    def carries_events(self) -> bool:
        """An event topic (read by the projector), not the dead-letter topic."""
        return bool(self.events)


def _topics_file() -> Path:
    packaged = resources.files("dispatch").joinpath("topics.yaml")
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "infra" / "topics.yaml"


@cache
def topic_specs() -> tuple[TopicSpec, ...]:
    raw: dict[str, Any] = yaml.safe_load(_topics_file().read_text())
    defaults = raw["defaults"]
    return tuple(
        TopicSpec(
            name=t["name"],
            key=t["key"],
            events=tuple(t["events"]),
            partitions=int(t.get("partitions", defaults["partitions"])),
            replication_factor=int(t.get("replication_factor", defaults["replication_factor"])),
            config={k: str(v) for k, v in {**defaults["config"], **t.get("config", {})}.items()},
        )
        for t in raw["topics"]
    )


def event_topics() -> list[str]:
    """The topics the projector reads (infra/topics.yaml, all but the dead letters)."""
    return [spec.name for spec in topic_specs() if spec.carries_events]


@cache
def topic_for_event(event_type: str) -> str:
    for spec in topic_specs():
        if event_type in spec.events:
            return spec.name
    raise KeyError(f"no topic carries {event_type!r}; add it to infra/topics.yaml")
