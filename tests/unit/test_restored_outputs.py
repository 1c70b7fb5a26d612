"""A record a broker restore published carries the RESTORED header: the decisions a reader
takes from it are appended only where the archive does not hold them already."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import faust

from dispatch.clients.events import ContactRecorded
from dispatch.events import Envelope, new_event
from dispatch.stack.restore_needs import RESTORED, RESTORED_HEADERS, carries_restored
from dispatch.worker.app import EventTopics
from dispatch.worker.batch_reader import restored
from dispatch.worker.guard import Delivery

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


@dataclass(frozen=True)
class Record:
    headers: tuple[tuple[str, bytes], ...]


def contact(client: str) -> Envelope:
    payload = ContactRecorded(client_id=client, staff_id="s1", kind="phone")
    return new_event(payload, key=client, occurred_at=T0, recorded_at=T0, actor="test")


def delivery(headers: tuple[tuple[str, bytes], ...]) -> Delivery:
    return Delivery("act.client-events", 0, 7, b"c1", contact("c1"), Record(headers))


def test_a_restored_record_is_told_from_a_new_one() -> None:
    assert restored(delivery(tuple(RESTORED_HEADERS)))
    assert not restored(delivery(()))
    assert not restored(delivery((("other", b"1"),)))
    # faust hands its agents the headers as a mapping, by str or bytes name
    assert carries_restored({RESTORED: b"1"}) and carries_restored({RESTORED.encode(): b"1"})
    assert not carries_restored({"other": b"1"}) and not carries_restored(None)


async def test_only_decisions_the_archive_does_not_hold_are_appended_again() -> None:
    decided = [contact("c1"), contact("c2"), contact("c3")]
    archived = {decided[0].event_id, decided[2].event_id}
    asked: list[list[uuid.UUID]] = []

    async def held(ids: list[uuid.UUID]) -> set[uuid.UUID]:
        asked.append(ids)
        return archived & set(ids)

    topics = EventTopics(faust.App("test-restored", autodiscover=False), held=held)
    assert await topics.not_archived(decided) == [decided[1]]
    assert await topics.not_archived([]) == [] and len(asked) == 1  # nothing to ask
