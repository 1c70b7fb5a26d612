"""Webhooks without a valid Twilio signature are refused and change nothing."""

from __future__ import annotations

import aiohttp
import pytest

from dispatch.demo.seed import CLIENT_PHONES
from dispatch.stack.runtime import Stack
from integrations.twilio.sandbox import SandboxPhones
from integrations.twilio.signatures import sign
from tests.e2e.helpers import spool_total

FORM = {
    "CallSid": "CAforged0001",
    "MessageSid": "SMforged0001",
    "MessageStatus": "delivered",
    "From": CLIENT_PHONES["c-07"],
    "To": "+15005550001",
    "Body": "ACK 00000",
}
# A dispatch id nothing else uses: a forged delivery report for it would be keyed by it.
FORGED_DISPATCH = "7d1d6a38-9a3c-4f0e-8d43-2a3b8e1f0c55"
FORGED_PAGE = "0c0a2f6e-5b7d-4f7e-9c55-1e2d3c4b5a69"


@pytest.mark.parametrize(
    ("path", "signature"),
    [
        ("/twilio/voice", None),
        ("/twilio/voice", "bm90IGEgc2lnbmF0dXJl"),
        ("/twilio/sms", "bm90IGEgc2lnbmF0dXJl"),
        (f"/twilio/status?n={FORGED_PAGE}&d={FORGED_DISPATCH}", None),
        (f"/twilio/status?n={FORGED_PAGE}&d={FORGED_DISPATCH}", "bm90IGEgc2lnbmF0dXJl"),
    ],
)
async def test_bad_or_missing_signature_is_403_and_no_event(
    stack: Stack, path: str, signature: str | None
) -> None:
    """A forged or unsigned webhook gets 403 and nothing is spooled or published."""
    before = await spool_total(stack)
    forged_reports = await spool_total(stack, FORGED_DISPATCH, carrier_reports=True)
    headers = {"X-Twilio-Signature": signature} if signature else {}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{stack.settings.public_base_url}{path}", data=FORM, headers=headers) as resp,
    ):
        assert resp.status == 403
    assert await spool_total(stack) == before
    assert await spool_total(stack, FORGED_DISPATCH, carrier_reports=True) == forged_reports


async def test_signature_for_other_params_is_refused(stack: Stack) -> None:
    """A signature copied from another request does not validate a changed body."""
    url = f"{stack.settings.public_base_url}/twilio/voice"
    token = stack.settings.twilio_auth_token.get_secret_value()
    good = sign(url, FORM, token)
    before = await spool_total(stack)
    tampered = {**FORM, "From": "+15550000000"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=tampered, headers={"X-Twilio-Signature": good}) as resp,
    ):
        assert resp.status == 403
    assert await spool_total(stack) == before


@pytest.mark.parametrize(
    ("path", "form", "field"),
    [
        ("/twilio/voice", {k: v for k, v in FORM.items() if k != "CallSid"}, "CallSid"),
        ("/twilio/sms", {k: v for k, v in FORM.items() if k != "MessageSid"}, "MessageSid"),
        (
            "/twilio/voice/message?team=act-north",
            {"CallSid": "CAforged0002", "RecordingSid": "RE1", "RecordingDuration": "long"},
            "RecordingDuration",
        ),
        (f"/twilio/status?n={FORGED_PAGE}", FORM, "d"),
        (f"/twilio/status?n={FORGED_PAGE}&d={FORGED_DISPATCH}&c=not-a-uuid", FORM, "c"),
    ],
)
async def test_signed_webhook_missing_a_field_is_400_naming_it(
    stack: Stack, path: str, form: dict[str, str], field: str
) -> None:
    """A correctly signed webhook lacking a field Twilio always sends gets a 400 whose JSON
    names that field, and nothing is spooled."""
    url = f"{stack.settings.public_base_url}{path}"
    signature = sign(url, form, stack.settings.twilio_auth_token.get_secret_value())
    before = await spool_total(stack)
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=form, headers={"X-Twilio-Signature": signature}) as resp,
    ):
        assert resp.status == 400
        assert (await resp.json())["field"] == field
    assert await spool_total(stack) == before


async def test_a_form_that_is_not_utf8_is_a_400_before_the_signature(stack: Stack) -> None:
    """Invalid UTF-8 in a Twilio form is refused (400 naming the body), not a 500, and is
    refused before its signature is even looked at; nothing is spooled."""
    before = await spool_total(stack)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{stack.settings.public_base_url}/twilio/voice",
            data=b"CallSid=CA1&From=%FF%FE&To=%2B15005550001",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ) as resp,
    ):
        assert resp.status == 400
        assert (await resp.json())["field"] == "body"
    assert await spool_total(stack) == before


async def test_a_call_to_a_line_no_team_owns_is_put_through_not_refused(
    stack: Stack, phones: SandboxPhones
) -> None:
    """A number no team owns (a misconfigured line): the caller is dialled to
    DEFAULT_CRISIS_NUMBER with a 200, never a 404, and nothing is spooled for a team."""
    before = await spool_total(stack)
    status, twiml = await phones.place_call("+15550000042", "+15005559999")
    assert status == 200
    assert f"<Dial>{stack.settings.default_crisis_number}</Dial>" in twiml
    assert await spool_total(stack) == before
