"""A worker crash or restart neither loses nor repeats a page."""

from __future__ import annotations

from dispatch.demo.seed import CLIENT_PHONES
from dispatch.stack.runtime import Stack
from integrations.twilio.sandbox import SandboxPhones
from tests.e2e import south_team as south
from tests.e2e.helpers import (
    code_of,
    last_index,
    next_page,
    on_duty_primary,
    reply_by_sms,
    sms_count,
    until,
)


async def test_call_while_worker_down_is_paged_after_restart(
    stack: Stack, phones: SandboxPhones
) -> None:
    """With the worker dead the caller is still connected, and the page goes out once it is back."""
    primary = await on_duty_primary(stack)
    stack.workers[-1].kill()
    after = last_index(stack)
    status, twiml = await phones.place_call(
        CLIENT_PHONES["c-08"], stack.settings.crisis_line_number
    )
    assert status == 200 and primary.phone in twiml
    await stack.start_worker()
    sms = await next_page(phones, primary.phone, after=after, timeout=40)
    assert await sms_count(stack, primary.phone, f" {code_of(sms['body'])}:") == 1


async def test_worker_killed_after_sending_does_not_page_twice(
    stack: Stack, phones: SandboxPhones
) -> None:
    """Killed after the SMS went out but before committing, the new worker does not resend."""
    primary = await on_duty_primary(stack)
    after = last_index(stack)
    await phones.place_call(CLIENT_PHONES["c-10"], stack.settings.crisis_line_number)
    sms = await next_page(phones, primary.phone, after=after, timeout=20)
    code = code_of(sms["body"])
    stack.workers[-1].kill()  # commit interval is 60 s here: the page's offset is not committed
    await stack.start_worker()
    row = await stack.read_models.dispatch_by_code(code)
    assert row is not None

    async def seen_again() -> bool:  # the new worker's notifier read the page request again
        claims = await stack.pool.fetchval(
            "SELECT claims FROM page_ledger WHERE dispatch_id = $1", row.dispatch_id
        )
        return bool(claims and claims >= 2)

    await until(seen_again, within_s=40, what="the redelivered page request in the ledger")
    # A later page, through the same notifier, went out after it: the first was not resent.
    sentinel_after = last_index(stack)
    await phones.place_call(CLIENT_PHONES["c-06"], stack.settings.crisis_line_number)
    await next_page(phones, primary.phone, after=sentinel_after, timeout=40)
    assert await sms_count(stack, primary.phone, f" {code}:") == 1


async def test_an_escalation_due_across_a_worker_crash_still_pages_the_backup(
    stack: Stack, phones: SandboxPhones
) -> None:
    """The worker dies while the primary has the page (the south team's step is 2 s): the
    new worker, with the escalation state restored, pages the backup when the step is up."""
    after = last_index(stack)
    status, twiml = await phones.place_call(south.CLIENTS["c-s6"], south.LINE)
    assert status == 200 and south.PHONES[south.PRIMARY] in twiml
    sms = await next_page(phones, south.PHONES[south.PRIMARY], after=after, timeout=20)
    code = code_of(sms["body"])
    stack.workers[-1].kill()
    await stack.start_worker()
    backup = south.PHONES[south.BACKUP]

    async def backup_paged() -> bool:
        return any(code in m["body"] for m in await phones.messages(to=backup, after=after))

    assert await until(backup_paged, within_s=40, what="the backup paged after the restart")
    reply = await reply_by_sms(stack, phones, backup, f"ACK {code}")  # nobody else is paged
    assert "is yours" in reply
