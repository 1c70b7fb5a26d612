"""The review API over hand-made events: managers and team leads of the team only, strict
query parameters, and every read of client data recorded before the answer."""

from __future__ import annotations

from typing import Any

import pytest

from dispatch.risk.events import ClientRecordsViewed
from tests.unit.api_fakes import auth
from tests.unit.review_builders import BACKUP, CLIENT, archived, golden_incident, team_events
from tests.unit.review_fakes import review_api

FACTS = [archived(e) for e in [*team_events(), *golden_incident()]]
WINDOW = "from=2026-03-09T00:00:00Z&to=2026-03-10T00:00:00Z"


async def _get(path: str, token: str | None = "rv-mgr") -> tuple[int, Any, list[Any]]:
    async with review_api(FACTS) as (client, spool):
        resp = await client.get(path, headers=auth(token) if token else {})
        return resp.status, await resp.json(), [e.payload for e in spool.events.values()]


async def test_a_manager_reviews_an_incident_and_the_read_is_recorded() -> None:
    """200 with the timeline and figures; a ClientRecordsViewed names the reader and client."""
    status, body, audit = await _get("/api/review/incidents/k7m2q")
    assert status == 200
    assert body["short_code"] == "K7M2Q" and body["acknowledged_by"] == BACKUP
    figures = {f["name"]: f["seconds"] for f in body["figures"]}
    assert (figures["to_acknowledgement"], figures["to_twiml"]) == (150.0, None)
    assert [p["outcome"] for p in body["pages"]] == ["delivered", "failed: carrier: unreachable"]
    assert audit == [
        ClientRecordsViewed(team_id="act-rv", viewer="api:manager:s-rv-mgr",
                            view="review:incident:K7M2Q", client_ids=(CLIENT,))
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "token", "status"),
    [
        ("/api/review/incidents/K7M2Q", "rv-nurse", 403),
        ("/api/review/incidents/K7M2Q", None, 401),
        ("/api/review/incidents/K7M2Q", "other-mgr", 404),
        (f"/api/review/clients/{CLIENT}", "other-mgr", 404),
        ("/api/review/team", "rv-nurse", 403),
    ],
)
async def test_only_the_teams_managers_and_leads_may_review(
    path: str, token: str | None, status: int
) -> None:
    """A nurse is refused (403), no token 401, another team's manager sees nothing (404),
    and nothing is recorded."""
    got, body, audit = await _get(path, token)
    assert (got, audit) == (status, [])
    assert "error" in body


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("escalated=maybe", "escalated"),
        ("reason=fire", "reason"),
        ("from=2026-03-09T12:00:00", "from"),
        ("from=2026-03-10T00:00:00Z&to=2026-03-09T00:00:00Z", "from"),
        ("team=act-other", "team"),
    ],
)
async def test_bad_query_parameters_name_the_field(query: str, field: str) -> None:
    """A non-boolean, an unknown reason, a time without its offset, a window backwards, or
    a parameter the route does not take: 400 naming it."""
    status, body, audit = await _get(f"/api/review/incidents?{query}", "rv-lead")
    assert (status, body["field"], audit) == (400, field, [])


async def test_incident_list_filters() -> None:
    """The list of the window's incidents, by reason and by whether they escalated."""
    status, body, _ = await _get(f"/api/review/incidents?{WINDOW}&escalated=true")
    assert status == 200 and [i["short_code"] for i in body["incidents"]] == ["K7M2Q"]
    _, body, audit = await _get(f"/api/review/incidents?{WINDOW}&escalated=false")
    assert (body["incidents"], audit) == ([], [])
    _, body, _ = await _get(f"/api/review/incidents?{WINDOW}&outcome=SAFE&reason=crisis_call")
    assert [i["outcome"] for i in body["incidents"]] == ["visited, safe"]


async def test_as_of_team_and_fidelity_answer_for_the_callers_team() -> None:
    """as-of needs ?at= (400 without); team and fidelity figures come with their methods."""
    status, body, _ = await _get("/api/review/as-of")
    assert (status, body["field"]) == (400, "at")
    status, body, audit = await _get("/api/review/as-of?at=2026-03-09T12:01:00Z")
    assert status == 200 and [d["step"] for d in body["open_dispatches"]] == [0]
    assert [a.client_ids for a in audit] == [(CLIENT,)]
    status, body, _ = await _get(f"/api/review/team?{WINDOW}")
    assert status == 200 and body["time_to_engage"]["method"] == "nearest-rank"
    status, body, _ = await _get(f"/api/review/fidelity?{WINDOW}")
    assert status == 200 and [i["code"] for i in body["items"]][:3] == ["H1", "H2", "H3"]


async def test_a_clients_review_is_itself_recorded() -> None:
    """The client's history is answered and its read recorded for that client."""
    status, body, audit = await _get(f"/api/review/clients/{CLIENT}")
    assert status == 200 and body["counts"]["dispatch"] == 4  # opened, escalated, ack, done
    assert [(a.view, a.client_ids) for a in audit] == [("review:client", (CLIENT,))]
