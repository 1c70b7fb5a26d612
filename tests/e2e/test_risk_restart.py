"""The risk table survives a worker crash: nothing is decided twice, nothing is lost."""

from __future__ import annotations

from datetime import timedelta

from dispatch.stack.runtime import Stack
from integrations.twilio.sandbox import SandboxPhones
from projections.risk_queries import RiskQueries
from tests.e2e.helpers import last_index, next_page, on_duty_primary, sms_count, until
from tests.e2e.test_risk_flow import _api, _enrol, _level, _settle


async def test_a_killed_worker_resumes_the_risk_table_without_repeating_itself(
    stack: Stack, phones: SandboxPhones
) -> None:
    """Killed before committing, the new worker re-reads the client's events: the level
    moves on from where it was, and no outreach text or level change is repeated."""
    client_id = "c-r04"
    await _enrol(stack, client_id, "+15550209904", stack.clock.now() - timedelta(hours=1))
    primary = await on_duty_primary(stack)
    after = last_index(stack)
    for sign in ("sleep_loss", "withdrawal"):
        body = {"source": "staff", "sign": sign, "severity": 3}
        assert (await _api(stack, "POST", f"/api/clients/{client_id}/signals", body))[0] == 202
    await until(lambda: _level(stack, client_id, "elevated"), what="elevated")
    sms = await next_page(phones, primary.phone, after=after, timeout=20)
    outreach = sms["body"].split(":")[0]

    stack.workers[-1].kill()  # commit interval is 60 s here: its offsets were not committed
    await stack.start_worker()
    body = {"source": "staff", "sign": "missed_meds", "severity": 3}
    assert (await _api(stack, "POST", f"/api/clients/{client_id}/signals", body))[0] == 202
    await until(lambda: _level(stack, client_id, "high"), what="high after the restart")

    history = [(a, b) for a, b, _ in await RiskQueries(stack.pool).risk_history(client_id)]
    assert history == [("stable", "elevated"), ("elevated", "high")]
    assert await sms_count(stack, primary.phone, outreach) == 1
    await _settle(stack, phones, client_id, primary.phone)
