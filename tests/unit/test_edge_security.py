"""The web edge against bad input and its own failures: every odd body is a 4xx, no
webhook ever answers Twilio with a 5xx, API tokens are kept as hashes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from dispatch.settings import ApiToken, Settings, token_digest
from dispatch.web.security import matching_token
from integrations.twilio.signatures import sign
from tests.unit.api_fakes import DISPATCH_ID, HASHED_TOKEN, auth, fake_api

TOKEN = Settings().twilio_auth_token.get_secret_value()
CALL = {"CallSid": "CA1", "From": "+15550200001", "To": "+15005550001"}
FORM = "application/x-www-form-urlencoded"


class BrokenFacts:
    """Routing facts that fail in a way nobody planned for (not a database outage)."""

    async def _fail(self, *args: object) -> None:
        raise RuntimeError("exploded")

    team = team_for_line = on_duty = staff_by_phone = caller_by_phone = _fail
    client_preferences = _fail

    async def stop(self) -> None:
        return None


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Any]:
    async with fake_api(tmp_path, rota_cache=BrokenFacts()) as (http, _, _):
        yield http


async def signed_post(client: Any, path: str, form: dict[str, str]) -> Any:
    """A webhook signed as Twilio signs it (the fake app's public URL is empty)."""
    headers = {"X-Twilio-Signature": sign(path, form, TOKEN)}
    return await client.post(path, data=form, headers=headers)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "field"),
    [
        (b"CallSid=CA1&From=%FF%FE", FORM, 400, "body"),  # percent-encoded bytes, not UTF-8
        (b"CallSid=CA1&From=\xff\xfe", FORM, 400, "body"),  # raw bytes, not UTF-8
        (b'{"CallSid": "CA1"}', "application/json", 415, "Content-Type"),
        (b"CallSid=CA1", f"{FORM}; charset=latin-1", 415, "Content-Type"),
        (b"CallSid=" + b"A" * 70_000, FORM, 413, "body"),
    ],
)
async def test_a_body_twilio_never_sends_is_a_4xx_before_the_signature(
    client: Any, body: bytes, content_type: str, status: int, field: str
) -> None:
    """Bad encoding, another content type or charset, an oversized body: refused with a
    4xx naming the problem (JSON), before anything else looks at it."""
    resp = await client.post("/twilio/voice", data=body, headers={"Content-Type": content_type})
    assert resp.status == status
    assert (await resp.json())["field"] == field


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"[" * 5000 + b"]" * 5000, "application/json", 400),  # nested too deep
        (b'{"outcome": "\xff"}', "application/json", 400),  # not UTF-8
        (b'{"outcome": "seen"}', "text/plain", 415),
        (b'{"outcome": "' + b"x" * 70_000 + b'"}', "application/json", 413),
    ],
)
async def test_a_bad_api_body_is_a_4xx(
    client: Any, body: bytes, content_type: str, status: int
) -> None:
    """The API refuses deep, badly encoded, mistyped or oversized JSON with a 4xx."""
    resp = await client.post(
        "/api/dispatches/K7M2Q/resolve",
        data=body,
        headers=auth("t1-nurse", **{"Content-Type": content_type}),
    )
    assert resp.status == status
    assert "error" in await resp.json()


async def test_a_failing_voice_webhook_puts_the_caller_through(client: Any) -> None:
    """The routing facts cannot be read at all: the caller is still put through to
    DEFAULT_CRISIS_NUMBER with a 200, and the failure is logged."""
    with capture_logs() as logs:
        resp = await signed_post(client, "/twilio/voice", CALL)
    assert resp.status == 200
    assert f"<Dial>{Settings().default_crisis_number}</Dial>" in await resp.text()
    failure = next(line for line in logs if line["event"] == "webhook_failed_answered_safely")
    assert failure["error"] == "RuntimeError" and failure["put_through"] is True


@pytest.mark.parametrize(
    ("path", "form", "status", "says"),
    [
        ("/twilio/sms", {"MessageSid": "SM1", "From": "+1555", "To": "+1500"}, 200, "<Message>"),
        ("/twilio/voice/next?team=t-1&step=1", {"DialCallStatus": "no-answer"}, 200, "<Dial>"),
        (
            "/twilio/status?n=00000000-0000-0000-0000-000000000001&d=" + str(DISPATCH_ID),
            {"MessageSid": "SM1", "MessageStatus": "delivered"},
            204,
            "",
        ),
    ],
)
async def test_no_webhook_answers_twilio_with_a_5xx(
    client: Any, path: str, form: dict[str, str], status: int, says: str
) -> None:
    """A text or a roll-over step that fails inside still gets an answer Twilio can use."""
    resp = await signed_post(client, path, form)
    assert resp.status == status and says in await resp.text()


def test_a_hashed_token_matches_only_its_token() -> None:
    """API_TOKENS may hold sha256:<hex>: the token itself matches, nothing else does."""
    table = Settings(
        api_tokens=f"sha256:{token_digest('s3cret').hex()}:t-1:nurse:s-1,plain:t-2:nurse"
    ).api_token_table()
    found = matching_token(table, "s3cret")
    assert found == ApiToken(token_digest("s3cret"), "t-1", "nurse", "s-1", hashed=True)
    assert matching_token(table, "s3cre") is None
    assert matching_token(table, token_digest("s3cret").hex()) is None  # the hash is no token
    assert matching_token(table, "plain") is not None


def test_a_malformed_hash_is_refused() -> None:
    """sha256: with a value that is not 64 hex digits is a configuration error."""
    with pytest.raises(ValueError, match="64 hex"):
        Settings(api_tokens="sha256:" + "zz" * 32 + ":t-1:nurse").api_token_table()


async def test_the_api_accepts_a_token_stored_as_its_hash(client: Any) -> None:
    """A caller with the token whose SHA-256 is configured reads their team's dispatches."""
    resp = await client.get("/api/dispatches", headers=auth(HASHED_TOKEN))
    assert resp.status == 200
    assert json.loads(await resp.text())["team_id"] == "t-1"
    assert (await client.get("/api/dispatches", headers=auth("t1-hashed"))).status == 401


@pytest.mark.parametrize(
    ("method", "path", "status"), [("GET", "/twilio/voice", 405), ("POST", "/twilio/nothing", 404)]
)
async def test_a_wrong_method_or_path_under_twilio_is_a_405_or_404(
    client: Any, method: str, path: str, status: int
) -> None:
    """No such webhook, or the wrong method: said plainly, before any body is read."""
    resp = await client.request(method, path, data=b"a=1", headers={"Content-Type": FORM})
    assert resp.status == status
