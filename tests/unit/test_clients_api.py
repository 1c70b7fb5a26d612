"""The client journey through the team API, over fakes: the same checks as the command line,
400 naming the field, 404 for another team's client, 403 without a staff member, and
nothing recorded on any refusal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any, cast

import pytest
from aiohttp.test_utils import TestClient, TestServer

from dispatch.bootstrap import bootstrap
from dispatch.bus import EventPublisher
from dispatch.clients.ports import StaffRef, TeamRef
from dispatch.clients.record import ClientRecord, fold
from dispatch.clients.service import JourneyService
from dispatch.ingress.spool import IngressSpool
from dispatch.settings import Settings
from dispatch.web.app import make_web_app
from tests.unit.api_fakes import FakeSpool, auth
from tests.unit.journey_builders import CONSENTS, NOW, STAFF, TEAMS

TOKENS = ("ann:aot-east:nurse:s-ann,lead:aot-east:team_lead,cy:icm-west:nurse:s-cy,"
          "ghost:aot-east:nurse:s-ghost")  # fmt: skip
REFERRAL = {"display_name": "Client A", "source": "cmht", "source_team": "CMHT North",
            "criteria_met": ["severe_mental_illness"]}  # fmt: skip


class SpooledJourney:
    """The journey's lookups over the fake spool: a client's record is what was spooled."""

    def __init__(self, spool: FakeSpool) -> None:
        self._spool = spool

    async def record(self, client_id: str) -> ClientRecord:
        return fold(client_id, [e for e in self._spool.events.values() if e.key == client_id])

    async def team(self, team_id: str) -> TeamRef | None:
        return TEAMS.get(team_id)

    async def staff(self, staff_id: str) -> StaffRef | None:
        return STAFF.get(staff_id)

    async def carer_consents(self, client_id: str, carer_id: str) -> bool | None:
        return CONSENTS.get(carer_id)


class Clock:
    def now(self) -> Any:
        return NOW


@pytest.fixture
async def api() -> AsyncIterator[tuple[TestClient[Any, Any], FakeSpool]]:
    spool = FakeSpool()
    settings = Settings(api_tokens=TOKENS)
    real = await bootstrap(settings, clock=Clock(), pool=cast(Any, object()),
                           publisher=EventPublisher("127.0.0.1:9"))  # fmt: skip
    journey = JourneyService(SpooledJourney(spool), spool, Clock())
    services = replace(real, spool=cast(IngressSpool, spool), journey=journey)
    async with TestClient(TestServer(make_web_app(services))) as client:
        yield client, spool
    await real.close()


async def _post(client: Any, path: str, body: Any, who: str = "ann") -> tuple[int, Any]:
    resp = await client.post(path, json=body, headers=auth(who))
    return resp.status, await resp.json()


async def _enrolled(client: Any) -> None:
    for path, body in (("referral", REFERRAL), ("referral/accept", {}),
                       ("enrolment", {"care_coordinator_id": "s-ann"})):  # fmt: skip
        status, answer = await _post(client, f"/api/clients/c-1/{path}", body)
        assert status == 202, answer


async def test_a_referral_enrolment_and_joint_visit_are_recorded_as_the_tokens_staff(
    api: Any,
) -> None:
    """Referral, acceptance, enrolment and a visit by two staff: each is spooled, made by
    the token's staff member; the same visit sent again is a duplicate."""
    client, spool = api
    await _enrolled(client)
    visit = {"kind": "face_to_face", "staff_ids": ["s-ann", "s-bo"], "where": "home",
             "minutes": 30, "occurred_at": NOW.isoformat()}  # fmt: skip
    status, body = await _post(client, "/api/clients/c-1/contacts", visit)
    assert status == 202 and [e["type"] for e in body["events"]] == ["ContactRecorded"]
    assert not body["duplicate"]
    assert (await _post(client, "/api/clients/c-1/contacts", visit))[1]["duplicate"]
    assert {e.actor for e in spool.events.values()} == {"s-ann"}
    assert [e.type for e in spool.events.values()] == [
        "ReferralReceived", "ReferralAccepted", "ClientEnrolled", "ContactRecorded"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("c-2/referral", {**REFERRAL, "source": "family"}, "source"),
        ("c-2/referral", {**REFERRAL, "criteria_met": []}, "criteria_met"),
        ("c-1/referral", REFERRAL, "client_id"),
        ("c-1/contacts", {"kind": "phone", "staff_ids": ["s-zz"]}, "staff_ids"),
        ("c-1/contacts", {"kind": "phone", "staff_ids": ["s-cy"]}, "staff_ids"),
        ("c-1/contacts", {"kind": "phone", "staff_ids": ["s-ann"], "minutes": "30"}, "minutes"),
        ("c-1/contacts", {"kind": "phone", "staff_ids": ["s-ann"],
                      "occurred_at": "2026-05-05T10:00:00Z"}, "occurred_at"),
        ("c-1/contacts", {"kind": "phone", "staff_ids": ["s-ann"],
                      "occurred_at": "2026-05-01T10:00:00Z"}, "occurred_at"),
        ("c-1/transfer", {"to_team_id": "aot-east"}, "to_team_id"),
        ("c-1/transfer", {"to_team_id": "nowhere"}, "to_team_id"),
        ("c-1/team-discharge", {"reason": "stable", "carers_involved": ["carer-no"]},
         "carers_involved"),
        ("c-1/re-referral", {"source": "cmht", "source_team": "CMHT"}, "client_id"),
        ("c-1/care-plan/review", {"note": "fine"}, "client_id"),
    ],
)  # fmt: skip
async def test_bad_input_is_400_naming_the_field_and_records_nothing(
    api: Any, path: str, body: Any, field: str
) -> None:
    """Every bad change answers 400 naming the field; the spool gains nothing."""
    client, spool = api
    await _enrolled(client)
    before = len(spool.events)
    status, answer = await _post(client, f"/api/clients/{path}", body)
    assert (status, answer["field"]) == (400, field), answer
    assert len(spool.events) == before


async def test_who_may_record_and_for_which_team(api: Any) -> None:
    """A token naming no staff member, or one not on the roster, is 403; another team's
    client is 404; nothing is recorded."""
    client, spool = api
    await _enrolled(client)
    before = len(spool.events)
    visit = {"kind": "phone", "staff_ids": ["s-cy"]}
    for token, status in (("lead", 403), ("ghost", 403), ("cy", 404)):
        answer = await _post(client, "/api/clients/c-1/contacts", visit, who=token)
        assert answer[0] == status, answer
    assert len(spool.events) == before


async def test_contacts_per_staff_refuses_an_empty_period(api: Any) -> None:
    """The team's contacts per staff member: `since` must come before `until`."""
    client, _ = api
    resp = await client.get(
        "/api/contacts",
        params={"since": "2026-05-04T10:00:00Z", "until": "2026-05-04T09:00:00Z"},
        headers=auth("ann"),
    )
    assert resp.status == 400 and (await resp.json())["field"] == "since"
