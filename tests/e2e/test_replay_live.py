"""`dispatch replay` on the running stack: the rebuilt read models equal what the projector
built, the swap happens under it, and it carries on: the next call is dispatched, paged,
taken and closed in the new tables."""

from __future__ import annotations

import asyncio

from click.testing import CliRunner, Result

from dispatch.cli import main
from dispatch.stack.runtime import Stack
from integrations.twilio.sandbox import SandboxPhones
from tests.e2e.helpers import code_of, last_index, next_page, reply_by_sms, until
from tests.e2e.team_seed import TeamSeed

TEAM, LINE, CLIENT = "act-replay", "+15005550730", "c-replay1"
PRIMARY, BACKUP = "s-replay-primary", "s-replay-backup"
PHONES = {PRIMARY: "+15550960001", BACKUP: "+15550960002", CLIENT: "+15550960101"}


async def _seed(stack: Stack) -> None:
    seed = TeamSeed(stack.clock.now(), TEAM)
    seed.team(name="ACT Replay", fallback_number="+15005550739", crisis_line_number=LINE)
    for staff_id in (PRIMARY, BACKUP):
        seed.staff(staff_id, phone=PHONES[staff_id], role="nurse", gender="unspecified",
                   display_name=staff_id)  # fmt: skip
    seed.shift(PRIMARY, "primary")
    seed.shift(BACKUP, "backup")
    seed.client(CLIENT, phone=PHONES[CLIENT])
    await stack.publisher.publish(seed.events)
    await stack.projector.wait_until_caught_up(timeout=30)


async def _replay(stack: Stack, *args: str) -> Result:
    env = {
        "DATABASE_URL": stack.settings.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": stack.settings.kafka_bootstrap_servers,
    }
    return await asyncio.to_thread(CliRunner().invoke, main, ["replay", *args], env=env)


async def test_replay_under_the_running_projector(stack: Stack, phones: SandboxPhones) -> None:
    """--check finds the rebuilt read models equal to the live ones, from the archive and
    from the broker's topics (--from-broker); after the swap a crisis
    call is dispatched, paged, acknowledged and resolved as before, and a second check is
    still equal."""
    await _seed(stack)
    checked = await _replay(stack, "--check")
    assert checked.exit_code == 0, checked.output
    assert "Equal: 26 read models" in checked.output
    from_broker = await _replay(stack, "--from-broker", "--check")
    assert from_broker.exit_code == 0, from_broker.output
    assert "Equal: 26 read models" in from_broker.output

    swapped = await _replay(stack)
    assert swapped.exit_code == 0, swapped.output
    assert "Swapped the read models in" in swapped.output

    after = last_index(stack)
    status, twiml = await phones.place_call(PHONES[CLIENT], LINE)
    assert status == 200 and PHONES[PRIMARY] in twiml
    code = code_of((await next_page(phones, PHONES[PRIMARY], after=after))["body"])
    assert "is yours" in await reply_by_sms(stack, phones, PHONES[PRIMARY], f"ACK {code}")
    assert "closed" in await reply_by_sms(stack, phones, PHONES[PRIMARY], f"DONE {code} safe")

    async def resolved() -> bool:
        row = await stack.read_models.dispatch_by_code(code, team_id=TEAM)
        return row is not None and row.status == "resolved"

    await until(resolved, what=f"{code} resolved in the swapped read model")
    await stack.projector.wait_until_caught_up(timeout=20)
    again = await _replay(stack, "--check")
    assert again.exit_code == 0, again.output
