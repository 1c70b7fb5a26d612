"""The sender pool: a whole-team page is spread over several numbers, each person on one."""

from __future__ import annotations

from integrations.twilio.client import TwilioTelephony
from integrations.twilio.sandbox import TwilioSandbox
from tests.fixtures.twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER

POOL = ("+15005550007", "+15005550008")
TEAM = [f"+1555080{i:04d}" for i in range(8)]


async def test_whole_team_page_uses_several_senders_stably(twilio_sandbox: TwilioSandbox) -> None:
    """Eight staff paged at once hear from more than one number; a repeat uses the same one."""
    telephony = TwilioTelephony(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number=FROM_NUMBER,
        api_base_url=twilio_sandbox.base_url,
        extra_senders=POOL,
    )
    try:
        for _ in range(2):
            for phone in TEAM:
                await telephony.send_sms(
                    to=phone, body="ACT CRISIS TEST1: page", status_callback=None, validity_s=600
                )
    finally:
        await telephony.close()
    senders = {m.to: set() for m in twilio_sandbox.messages}
    for m in twilio_sandbox.messages:
        senders[m.to].add(m.from_)
    assert all(len(numbers) == 1 for numbers in senders.values())
    used = set().union(*senders.values())
    assert len(used) >= 2 and used <= {FROM_NUMBER, *POOL}


def test_without_a_pool_every_page_comes_from_the_paging_number() -> None:
    """With no extra senders configured, the one paging number sends everything."""
    telephony = TwilioTelephony(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number=FROM_NUMBER,
        api_base_url="http://127.0.0.1:9",
    )
    assert {telephony.sender_for(phone) for phone in TEAM} == {FROM_NUMBER}
