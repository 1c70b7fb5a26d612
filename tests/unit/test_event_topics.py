"""The event registry, infra/topics.yaml (the routing) and the README's topic table agree."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from dispatch.events.registry import PAYLOADS
from dispatch.topics import topic_for_event, topic_specs

README = Path(__file__).resolve().parents[2] / "README.md"
REGISTERED = sorted(p.event_type for p in PAYLOADS)


def readme_table() -> dict[str, list[str]]:
    """Topic -> the event types its row of the README's "Events and topics" table names."""
    section = README.read_text().split("## Events and topics", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and re.fullmatch(r"`[a-z.-]+`", cells[0]):
            rows[cells[0].strip("`")] = re.findall(r"[A-Za-z]+", cells[2])
    return rows


def test_topic_file_names_every_registered_event_once() -> None:
    """Every event the code can write has exactly one topic to go to, and no topic waits for
    an event type the code does not know."""
    named = Counter(e for spec in topic_specs() for e in spec.events)
    assert sorted(named) == REGISTERED
    assert [t for t, n in named.items() if n > 1] == []


@pytest.mark.parametrize("event_type", REGISTERED)
def test_readme_lists_each_event_under_its_topic(event_type: str) -> None:
    """A reader of the README finds each event once, under the topic it is published on."""
    rows = [topic for topic, events in readme_table().items() if event_type in events]
    assert rows == [topic_for_event(event_type)]


def test_readme_table_names_only_known_events_and_topics() -> None:
    """The README's table names no event type or topic the system does not have."""
    table = readme_table()
    assert sorted(table) == sorted(spec.name for spec in topic_specs())
    named = [e for events in table.values() for e in events]
    assert sorted(set(named) - set(REGISTERED)) == []
    assert sorted(named) == REGISTERED
