"""A crisis line's Fallback URL, as Twilio uses it: when the web edge fails or is gone, the
caller gets the static fallback TwiML, served by a process that needs nothing else."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from dispatch.fallback.document import write_fallback_twiml
from dispatch.fallback.process import FallbackServer
from dispatch.stack.broker import free_port
from integrations.twilio.sandbox import SandboxPhones, TwilioSandbox
from integrations.twilio.signatures import sign
from tests.fixtures.twilio import AUTH_TOKEN, WebhookReceiver

CALLER, LINE = "+15550200001", "+15005550001"
OUT_OF_HOURS = "+18005550199"


@pytest.fixture
async def fallback_server(tmp_path: Path) -> AsyncIterator[FallbackServer]:
    """The static server process, serving a document that dials OUT_OF_HOURS."""
    document = write_fallback_twiml(tmp_path / "fallback.xml", OUT_OF_HOURS)
    server = FallbackServer(document, host="127.0.0.1", port=0, log_path=tmp_path / "fb.log")
    await server.start()
    yield server
    await server.stop()


async def test_a_caller_is_put_through_when_the_web_edge_is_down(
    twilio_sandbox: TwilioSandbox, sandbox_phones: SandboxPhones, fallback_server: FallbackServer
) -> None:
    """Nothing listens at the voice webhook: the sandbox, like Twilio, requests the number's
    Fallback URL and the caller is dialled to the out-of-hours number."""
    twilio_sandbox.set_webhooks(f"http://127.0.0.1:{free_port()}/twilio/voice", None)
    await sandbox_phones.set_fallbacks(fallback_server.url)
    status, twiml = await sandbox_phones.place_call(CALLER, LINE)
    assert status == 200
    assert f"<Dial>{OUT_OF_HOURS}</Dial>" in twiml


async def test_a_5xx_from_the_webhook_goes_to_the_fallback_with_the_error(
    twilio_sandbox: TwilioSandbox, sandbox_phones: SandboxPhones, webhook_receiver: WebhookReceiver
) -> None:
    """The webhook answers 500: the fallback URL gets the same signed call plus ErrorCode
    11200 and ErrorUrl, and its TwiML is what the caller hears."""
    primary, fallback = webhook_receiver.url("/twilio/voice"), webhook_receiver.url("/fb")
    twilio_sandbox.set_webhooks(primary, None)
    twilio_sandbox.set_fallbacks(fallback)
    webhook_receiver.statuses["/twilio/voice"] = 500
    webhook_receiver.replies["/fb"] = "<Response><Dial>+18005550199</Dial></Response>"
    status, twiml = await sandbox_phones.place_call(CALLER, LINE)
    assert (status, twiml) == (200, "<Response><Dial>+18005550199</Dial></Response>")
    first, second = await webhook_receiver.next(), await webhook_receiver.next()
    assert first.path == "/twilio/voice" and second.path == "/fb"
    assert second.form == {**first.form, "ErrorCode": "11200", "ErrorUrl": primary}
    assert second.signature == sign(fallback, second.form, AUTH_TOKEN)


async def test_without_a_fallback_url_the_failure_is_what_twilio_gets(
    twilio_sandbox: TwilioSandbox, sandbox_phones: SandboxPhones, webhook_receiver: WebhookReceiver
) -> None:
    """No Fallback URL configured: the webhook's 500 stands (Twilio would play its error)."""
    twilio_sandbox.set_webhooks(webhook_receiver.url("/twilio/voice"), None)
    webhook_receiver.statuses["/twilio/voice"] = 500
    status, _ = await sandbox_phones.place_call(CALLER, LINE)
    assert status == 500 and webhook_receiver.pending() == 1


async def test_the_static_server_answers_any_method_and_follows_a_rewrite(
    fallback_server: FallbackServer,
) -> None:
    """GET, HEAD and POST all get the document; `dispatch fallback-twiml` rewriting it
    changes what is served without a restart; stopping it frees its PID."""
    async with aiohttp.ClientSession() as http:
        async with http.post(fallback_server.url, data={"CallSid": "CA1"}) as resp:
            assert resp.status == 200 and resp.content_type == "text/xml"
            assert f"<Dial>{OUT_OF_HOURS}</Dial>" in await resp.text()
        async with http.head(fallback_server.url) as resp:
            assert resp.status == 200
        write_fallback_twiml(fallback_server.document, "+18005550123")
        async with http.get(fallback_server.url + "?ErrorCode=11200") as resp:
            assert "<Dial>+18005550123</Dial>" in await resp.text()
    pid = fallback_server.pid
    await fallback_server.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
