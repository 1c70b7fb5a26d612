"""The schema-first API over fakes: the generated OpenAPI document, the docs page, strict
input, and one JSON shape for every refusal."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from openapi_spec_validator import validate

from dispatch.web.http import ApiError
from dispatch.web.schema import NoInput, parse_json
from tests.unit.api_fakes import auth, fake_api


@pytest.fixture
async def api() -> AsyncIterator[Any]:
    async with fake_api() as (client, _, spool):
        yield client, spool


async def _document(client: Any) -> dict[str, Any]:
    resp = await client.get("/api/openapi.json")
    assert resp.status == 200
    document: dict[str, Any] = await resp.json()
    return document


async def test_every_route_of_the_app_is_in_the_valid_openapi_document(api: Any) -> None:
    """Every API route the app answers (all but Twilio's webhooks and the console's pages)
    is documented, and
    nothing else is; the document is valid OpenAPI 3.1."""
    client, _ = api
    document = await _document(client)
    validate(document)
    assert document["openapi"] == "3.1.0"
    routed = {
        (route.resource.canonical, route.method.lower())
        for route in client.app.router.routes()
        if route.method != "HEAD"
        and not route.resource.canonical.startswith(("/twilio/", "/console", "/d/"))
    }
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert routed == documented
    assert len(routed) == 44  # 16, review 6, meeting 1, /metrics 1, staff/carers 9, journey 11


async def test_refusals_are_documented_with_the_error_schema(api: Any) -> None:
    """Each operation lists 400, 401 where a token is needed, and the body's 413/415, all
    with the error schema; the error schema names `error` and an optional `field`."""
    client, _ = api
    document = await _document(client)
    error = document["components"]["schemas"]["ErrorBody"]
    assert error["required"] == ["error"] and set(error["properties"]) == {"error", "field"}
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            codes = {int(c) for c in op["responses"] if c.startswith("4")}
            assert 400 in codes and (401 in codes) == bool(op["security"]), path
            assert (method == "post") == ({413, 415} <= codes), path
            for code in codes:
                schema = op["responses"][str(code)]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}


async def test_documented_security_matches_what_the_routes_do(api: Any) -> None:
    """Without a token, every route documented as needing one answers 401 as JSON, and the
    others answer with a success the document names (/health: 503 here, nothing runs)."""
    client, _ = api
    document = await _document(client)
    for path, ops in document["paths"].items():
        url = path.replace("{code}", "K7M2Q").replace("{client_id}", "c-1")
        url = url.replace("{staff_id}", "s-1").replace("{carer_id}", "carer-1")
        for method, op in ops.items():
            resp = await client.request(method, url)
            if op["security"]:
                assert resp.status == 401, path
                assert set(await resp.json()) == {"error", "field"}
            else:
                assert str(resp.status) in op["responses"] and resp.status not in (400, 401)


async def test_docs_page_shows_every_route_and_schema_from_packaged_assets(api: Any) -> None:
    """GET /api/docs is an HTML page listing every path and schema; it loads nothing from
    another site (its style ships with the package)."""
    client, _ = api
    document = await _document(client)
    resp = await client.get("/api/docs")
    assert resp.status == 200 and resp.content_type == "text/html"
    page = await resp.text()
    for path in document["paths"]:
        assert f"<code>{path}</code>" in page
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in page
    assert "<style>" in page and ".method" in page
    links = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert links and all(link.startswith(("#", "/api/", "data:")) for link in links)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"severity": "3"}, "severity"),
        ({"severity": True}, "severity"),
        ({"severity": 3.0}, "severity"),
        ({"occurred_at": "2026-11-24T14:00:00"}, "occurred_at"),
        ({"occurred_at": 1795000000}, "occurred_at"),
        ({"carer_id": 7}, "carer_id"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_signals_are_read_strictly(api: Any, body: dict[str, Any], field: str) -> None:
    """A number sent as a string or boolean, a time without its UTC offset or as a number,
    an unknown field: 400 naming the field, nothing recorded."""
    client, spool = api
    signal = {"source": "staff", "sign": "sleep_loss", "severity": 3, **body}
    resp = await client.post("/api/clients/c-1/signals", json=signal, headers=auth("t1-nurse"))
    assert resp.status == 400
    assert (await resp.json())["field"] == field
    assert not spool.events


def test_deeply_nested_or_non_object_json_is_a_400() -> None:
    """JSON nested thousands deep, a list, or text that is not JSON: 400 naming the body."""
    for raw in (b"[" * 5000 + b"]" * 5000, b"[1]", b"{'a': 1}", b"\xff\xfe"):
        with pytest.raises(ApiError) as err:
            parse_json(NoInput, raw)
        assert (err.value.status, err.value.field) == (400, "body")


async def _error(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status == status and resp.content_type == "application/json"
    body: dict[str, Any] = json.loads(await resp.text())
    assert set(body) <= {"error", "field"} and body["error"]
    return body


async def test_every_refusal_of_the_http_layer_is_json(api: Any) -> None:
    """aiohttp's own refusals on API paths are the JSON shape too: unknown path 404, wrong
    method 405 (with Allow), body over 64 KiB 413, a body that is not JSON 415."""
    client, spool = api
    await _error(await client.get("/api/nothing-here"), 404)
    wrong = await client.get("/api/dispatches/K7M2Q/ack", headers=auth("t1-nurse"))
    await _error(wrong, 405)
    assert wrong.headers["Allow"] == "POST"
    huge = {"outcome": "x" * 70_000}
    await _error(await client.post("/api/dispatches/K7M2Q/resolve", json=huge,
                                   headers=auth("t1-nurse")), 413)  # fmt: skip
    form = await client.post("/api/dispatches/K7M2Q/resolve", data={"outcome": "safe"},
                             headers=auth("t1-nurse"))  # fmt: skip
    assert (await _error(form, 415))["field"] == "Content-Type"
    as_json = auth("t1-nurse", **{"Content-Type": "application/json"})
    garbled = await client.post("/api/dispatches/K7M2Q/resolve", data=b"{outcome",
                                headers=as_json)  # fmt: skip
    assert (await _error(garbled, 400))["field"] == "body"
    assert not spool.events


async def test_query_parameters_are_declared_and_strict(api: Any) -> None:
    """An unknown or repeated query parameter, or a wrong type, is a 400 naming it."""
    client, _ = api
    cases = [
        ("/api/dispatches?page=2", "page"),
        ("/api/rota?hours=true", "hours"),
        ("/api/rota?hours=2.5", "hours"),
        ("/api/rota?hours=0", "hours"),
        ("/api/oncall?at=2026-11-24T14:00", "at"),
        ("/api/oncall?at=2026-11-24T14:00Z&at=2026-11-24T15:00Z", "at"),
    ]
    for url, field in cases:
        resp = await client.get(url, headers=auth("t1-nurse"))
        assert (await _error(resp, 400))["field"] == field, url


async def test_twilio_webhooks_keep_their_own_refusals(api: Any) -> None:
    """An unsigned webhook is still refused by the signature check (403), untouched by the
    API's JSON errors."""
    client, _ = api
    resp = await client.post("/twilio/sms", data={"From": "+15550000001", "Body": "ACK"})
    assert resp.status == 403 and resp.content_type == "text/plain"
