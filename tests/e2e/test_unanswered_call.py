"""Nobody answers: the caller is told when to expect a call back and can leave a message."""

from __future__ import annotations

import aiohttp

from dispatch.demo.seed import CLIENT_PHONES, TEAM_ID
from dispatch.stack.runtime import Stack
from integrations.twilio.sandbox import SandboxPhones
from integrations.twilio.signatures import sign
from tests.e2e.helpers import code_of, last_index, next_page, on_duty_primary, until


async def _signed_post(stack: Stack, path: str, form: dict[str, str]) -> tuple[int, str]:
    """POST a form to our webhook signed exactly as Twilio signs it."""
    url = f"{stack.settings.public_base_url}{path}"
    token = stack.settings.twilio_auth_token.get_secret_value()
    headers = {"X-Twilio-Signature": sign(url, form, token)}
    async with aiohttp.ClientSession() as http, http.post(url, data=form, headers=headers) as r:
        return r.status, await r.text()


async def test_unanswered_caller_leaves_a_message_on_the_open_dispatch(
    stack: Stack, phones: SandboxPhones
) -> None:
    """After primary, backup and fallback ring out, the caller hears the call-back promise,
    leaves a message, and the message joins the still-open dispatch's timeline."""
    primary = await on_duty_primary(stack)
    after = last_index(stack)
    call_sid = "CAunanswered0000000000000000000001"
    status, _ = await phones.place_call(
        CLIENT_PHONES["c-09"], stack.settings.crisis_line_number, call_sid=call_sid
    )
    assert status == 200
    code = code_of((await next_page(phones, primary.phone, after=after, timeout=20))["body"])
    status, twiml = await _signed_post(
        stack,
        f"/twilio/voice/next?team={TEAM_ID}&step=3",
        {"CallSid": call_sid, "DialCallStatus": "no-answer"},
    )
    assert status == 200
    assert "within 15 minutes" in twiml and "<Record" in twiml and "/twilio/voice/message" in twiml
    status, thanks = await _signed_post(
        stack,
        f"/twilio/voice/message?team={TEAM_ID}",
        {
            "CallSid": call_sid,
            "From": CLIENT_PHONES["c-09"],
            "RecordingSid": "RE0001",
            "RecordingUrl": "https://example.invalid/RE0001",
            "RecordingDuration": "14",
        },
    )
    assert status == 200 and "reached the team" in thanks
    row = await until(lambda: stack.read_models.dispatch_by_code(code), what="dispatch row")
    assert row.status == "open"

    async def message_in_timeline() -> bool:
        await stack.projector.wait_until_caught_up(timeout=20)
        events = await stack.read_models.archive(correlation_id=row.correlation_id)
        return any(
            e.type == "CallerMessageRecorded" and e.payload["duration_s"] == 14 for e in events
        )

    assert await until(message_in_timeline, what="message in the dispatch timeline")
    await phones.send_sms(
        primary.phone,
        stack.settings.twilio_from_number,
        f"DONE {code} called back, listened to message",
    )
    await until(lambda: _resolved(stack, code), what="resolved")


async def _resolved(stack: Stack, code: str) -> bool:
    row = await stack.read_models.dispatch_by_code(code)
    return row is not None and row.status == "resolved"
