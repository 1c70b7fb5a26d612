"""The Twilio sandbox itself: REST shapes and errors, playing phones, inspection and waits."""

from __future__ import annotations

import asyncio
import re
from base64 import b64encode
from collections.abc import AsyncIterator
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
import pytest

from integrations.twilio import twiml
from integrations.twilio.sandbox import SandboxPhones, TwilioSandbox
from integrations.twilio.signatures import validate_twilio_request
from tests.fixtures.twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, WebhookReceiver

STAFF = "+15550001001"
CALLER = "+15550002002"
LINE = "+15005550001"
CREDENTIALS = f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()
MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


@pytest.fixture
async def rest(twilio_sandbox: TwilioSandbox) -> AsyncIterator[aiohttp.ClientSession]:
    """A raw HTTP session on the sandbox, authenticated as the account."""
    async with aiohttp.ClientSession(
        base_url=twilio_sandbox.base_url,
        headers={"Authorization": "Basic " + b64encode(CREDENTIALS).decode()},
    ) as session:
        yield session


async def _send(rest: aiohttp.ClientSession, to: str, body: str) -> dict[str, Any]:
    form = {"To": to, "From": FROM_NUMBER, "Body": body}
    async with rest.post(MESSAGES, data=form) as response:
        assert response.status == 201
        created: dict[str, Any] = await response.json()
        return created


async def test_create_message_replies_in_twilio_shape(rest: aiohttp.ClientSession) -> None:
    """POST Messages.json answers 201 with a Twilio-shaped queued message resource."""
    created = await _send(rest, STAFF, "hello")

    assert re.fullmatch(r"SM[0-9a-f]{32}", created["sid"])
    assert (created["status"], created["to"], created["from"]) == ("queued", STAFF, FROM_NUMBER)
    assert created["account_sid"] == ACCOUNT_SID
    assert parsedate_to_datetime(created["date_created"]).tzinfo is not None
    async with rest.get(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{created['sid']}.json") as r:
        assert (r.status, (await r.json())["body"]) == (200, "hello")


async def test_requests_without_valid_basic_auth_get_401(twilio_sandbox: TwilioSandbox) -> None:
    """A wrong or missing Basic auth is refused with Twilio's 401 error body (code 20003)."""
    async with (
        aiohttp.ClientSession(base_url=twilio_sandbox.base_url) as anonymous,
        anonymous.post(MESSAGES, data={"To": STAFF, "From": FROM_NUMBER, "Body": "x"}) as response,
    ):
        body = await response.json()

    assert response.status == 401
    assert body == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }


async def test_missing_body_is_a_twilio_400(rest: aiohttp.ClientSession) -> None:
    """A message without Body is refused with 400 and Twilio's code 21602."""
    async with rest.post(MESSAGES, data={"To": STAFF, "From": FROM_NUMBER}) as response:
        body = await response.json()

    assert response.status == 400
    assert (body["code"], body["status"]) == (21602, 400)
    assert body["more_info"].endswith("/21602")


async def test_unknown_message_sid_is_a_404(rest: aiohttp.ClientSession) -> None:
    """Fetching a message the sandbox never saw answers 404 with code 20404."""
    path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/SM{'0' * 32}.json"
    async with rest.get(path) as response:
        assert (response.status, (await response.json())["code"]) == (404, 20404)


async def test_list_pages_newest_first_via_next_page_uri(rest: aiohttp.ClientSession) -> None:
    """GET Messages.json filters by To and pages with next_page_uri, newest first."""
    for n in range(5):
        await _send(rest, STAFF, f"page {n}")
    await _send(rest, CALLER, "someone else")

    bodies: list[str] = []
    uri: str | None = f"{MESSAGES}?To=%2B{STAFF[1:]}&PageSize=2"
    while uri is not None:
        async with rest.get(uri) as response:
            page = await response.json()
        bodies += [message["body"] for message in page["messages"]]
        uri = page["next_page_uri"]

    assert bodies == [f"page {n}" for n in reversed(range(5))]


async def test_date_sent_filter_excludes_older_messages(rest: aiohttp.ClientSession) -> None:
    """DateSent> (the SDK's date_sent_after) in the future matches nothing."""
    await _send(rest, STAFF, "old news")

    async with rest.get(MESSAGES, params={"To": STAFF, "DateSent>": "2999-01-01"}) as response:
        page = await response.json()

    assert page["messages"] == []


async def test_inbound_sms_posts_a_signed_webhook(
    twilio_sandbox: TwilioSandbox,
    sandbox_phones: SandboxPhones,
    webhook_receiver: WebhookReceiver,
) -> None:
    """A played text reaches the SMS webhook signed like Twilio; a TwiML reply is sent back."""
    twilio_sandbox.set_webhooks(None, webhook_receiver.url("/twilio/sms"))
    webhook_receiver.replies["/twilio/sms"] = twiml.sms_reply("AB12 is yours.")

    status, body = await sandbox_phones.send_sms(STAFF, FROM_NUMBER, "ACK AB12")

    hit = await webhook_receiver.next()
    assert (status, body) == (200, twiml.sms_reply("AB12 is yours."))
    assert validate_twilio_request(hit.url, hit.form, hit.signature, AUTH_TOKEN)
    assert (hit.form["From"], hit.form["To"], hit.form["Body"]) == (STAFF, FROM_NUMBER, "ACK AB12")
    assert (hit.form["AccountSid"], hit.form["NumMedia"]) == (ACCOUNT_SID, "0")
    reply = await sandbox_phones.wait_for_sms(STAFF, timeout=5)
    assert (reply["body"], reply["from"], reply["direction"]) == (
        "AB12 is yours.",
        FROM_NUMBER,
        "outbound-reply",
    )


async def test_inbound_call_can_replay_the_same_call_sid(
    twilio_sandbox: TwilioSandbox,
    sandbox_phones: SandboxPhones,
    webhook_receiver: WebhookReceiver,
) -> None:
    """A played call posts a signed ringing request; passing call_sid replays the same CallSid."""
    twilio_sandbox.set_webhooks(webhook_receiver.url("/twilio/voice"), None)
    webhook_receiver.replies["/twilio/voice"] = twiml.connect_caller("Hello", STAFF, 20, None)
    sid = "CA" + "7" * 32

    first = await sandbox_phones.place_call(CALLER, LINE, call_sid=sid)
    second = await sandbox_phones.place_call(CALLER, LINE, call_sid=sid)

    hits = [await webhook_receiver.next(), await webhook_receiver.next()]
    assert first == second == (200, twiml.connect_caller("Hello", STAFF, 20, None))
    assert [hit.form["CallSid"] for hit in hits] == [sid, sid]
    assert (hits[0].form["CallStatus"], hits[0].form["Direction"]) == ("ringing", "inbound")
    assert all(validate_twilio_request(h.url, h.form, h.signature, AUTH_TOKEN) for h in hits)


async def test_pressed_digits_post_a_signed_gather_result(
    sandbox_phones: SandboxPhones, webhook_receiver: WebhookReceiver
) -> None:
    """press_digits posts Digits to the Gather action URL, signed, with the call's SID."""
    url = webhook_receiver.url("/twilio/gather?dispatch=d-1")

    status, _ = await sandbox_phones.press_digits(
        url, call_sid="CA" + "1" * 32, from_=FROM_NUMBER, to=STAFF, digits="1"
    )

    hit = await webhook_receiver.next()
    assert status == 200
    assert (hit.url, hit.form["Digits"], hit.form["CallSid"]) == (url, "1", "CA" + "1" * 32)
    assert validate_twilio_request(hit.url, hit.form, hit.signature, AUTH_TOKEN)


async def test_inbound_without_a_webhook_is_refused(sandbox_phones: SandboxPhones) -> None:
    """Playing a text before the app's webhook URL is set fails loudly (HTTP 409)."""
    with pytest.raises(RuntimeError, match="409"):
        await sandbox_phones.send_sms(STAFF, FROM_NUMBER, "ACK AB12")


async def test_wait_for_message_returns_when_one_arrives(
    twilio_sandbox: TwilioSandbox, rest: aiohttp.ClientSession
) -> None:
    """wait_for_message blocks until a matching message is recorded, then returns it."""
    waiter = asyncio.create_task(twilio_sandbox.wait_for_message(to=STAFF, timeout=10))
    await _send(rest, CALLER, "not for staff")
    created = await _send(rest, STAFF, "for staff")

    async with asyncio.timeout(5):
        message = await waiter

    assert (message.sid, message.body, message.index) == (created["sid"], "for staff", 2)


async def test_http_long_poll_returns_when_a_message_arrives(
    sandbox_phones: SandboxPhones, rest: aiohttp.ClientSession
) -> None:
    """GET /sandbox/messages?wait= holds until a message with index > after is recorded."""
    first = await _send(rest, STAFF, "one")
    waiter = asyncio.create_task(sandbox_phones.wait_for_sms(STAFF, after=1, timeout=10))
    second = await _send(rest, STAFF, "two")

    async with asyncio.timeout(5):
        message = await waiter

    assert (message["sid"], message["index"]) == (second["sid"], 2) != (first["sid"], 1)
    assert [m["body"] for m in await sandbox_phones.messages(to=STAFF)] == ["one", "two"]


async def test_wait_for_sms_times_out_naming_the_number(sandbox_phones: SandboxPhones) -> None:
    """With nothing sent, wait_for_sms raises TimeoutError that names the phone number."""
    with pytest.raises(TimeoutError, match=re.escape(STAFF)):
        await sandbox_phones.wait_for_sms(STAFF, timeout=0.2)


async def test_faults_over_http_fail_the_next_creates(
    sandbox_phones: SandboxPhones, rest: aiohttp.ClientSession
) -> None:
    """POST /sandbox/faults makes exactly the next N creates fail with that status."""
    await sandbox_phones.inject_fault(429, count=2)
    form = {"To": STAFF, "From": FROM_NUMBER, "Body": "x"}

    statuses = []
    for _ in range(3):
        async with rest.post(MESSAGES, data=form) as response:
            statuses.append(response.status)

    assert statuses == [429, 429, 201]


async def test_phone_behaviour_is_settable_over_http(
    sandbox_phones: SandboxPhones, rest: aiohttp.ClientSession, webhook_receiver: WebhookReceiver
) -> None:
    """POST /sandbox/phones/{number} changes delivery; unknown behaviours are a 400."""
    assert (await sandbox_phones.set_phone(STAFF, sms="undelivered"))["sms"] == "undelivered"
    with pytest.raises(RuntimeError, match="400"):
        await sandbox_phones.set_phone(STAFF, voice="fax")
    form = {
        "To": STAFF,
        "From": FROM_NUMBER,
        "Body": "x",
        "StatusCallback": webhook_receiver.url("/s"),
    }

    async with rest.post(MESSAGES, data=form) as response:
        created = await response.json()

    hits = [await webhook_receiver.next() for _ in range(2)]
    assert [hit.form["MessageStatus"] for hit in hits] == ["sent", "undelivered"]
    assert hits[-1].form["ErrorCode"] == "30003"
    async with rest.get(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{created['sid']}.json") as r:
        assert (await r.json())["status"] == "undelivered"


async def test_stop_releases_waiters(twilio_sandbox: TwilioSandbox) -> None:
    """Stopping the sandbox ends a pending wait at once instead of after its timeout."""
    waiter = asyncio.create_task(twilio_sandbox.wait_for_message(to=STAFF, timeout=30))

    await twilio_sandbox.stop()

    done, _ = await asyncio.wait({waiter}, timeout=5)
    assert waiter in done
    with pytest.raises(TimeoutError, match="no SMS"):
        waiter.result()
