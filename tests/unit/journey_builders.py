"""Facts for the client journey's pure decisions: two teams (Assertive Outreach and ICM), an
ACT team, their staff and one client's record built from the decisions' own events."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from dispatch.clients.ports import StaffRef, TeamRef
from dispatch.clients.record import ClientRecord, evolve
from dispatch.clients.rules import Facts
from dispatch.events import Envelope

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
CLIENT = "c-aot1"
TEAMS = {
    "aot-east": TeamRef("aot-east", "AOT"),
    "icm-west": TeamRef("icm-west", "ICM"),
    "act-mid": TeamRef("act-mid", "ACT"),
}
STAFF = {
    "s-ann": StaffRef("s-ann", "aot-east"),
    "s-bo": StaffRef("s-bo", "aot-east"),
    "s-cy": StaffRef("s-cy", "icm-west"),
    "s-di": StaffRef("s-di", "act-mid"),
}
CONSENTS: dict[str, bool | None] = {"carer-ok": True, "carer-no": False}


def facts(
    record: ClientRecord | None = None,
    *,
    actor: str = "s-ann",
    scope: str | None = None,
    now: datetime = NOW,
    carers: Iterable[str] = (),
) -> Facts:
    return Facts(
        record=record or ClientRecord(client_id=CLIENT),
        now=now,
        actor=actor,
        scope=scope,
        teams=TEAMS,
        staff=STAFF,
        consents={c: CONSENTS.get(c) for c in carers},
    )


def played(
    steps: Iterable[tuple[Callable[..., list[Envelope]], tuple[Any, ...], dict[str, Any]]],
) -> tuple[ClientRecord, list[Envelope]]:
    """Run decisions one after another, each on the record the earlier events made; each
    step is (decision, args after the facts, facts keywords)."""
    record = ClientRecord(client_id=CLIENT)
    events: list[Envelope] = []
    for decision, args, kw in steps:
        for event in decision(facts(record, **kw), *args):
            events.append(event)
            record = evolve(record, event)
    return record, events


def hours(n: float) -> datetime:
    return NOW - timedelta(hours=n)
