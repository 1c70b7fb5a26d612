"""Twilio refusing the workers' credentials (the auth token rotated in Twilio's console), on
a real stack of the test's own: before any call comes in, /health turns red naming it, and
the worker says so once; with the token accepted again /health is green again."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from integrations.twilio.sandbox import SandboxPhones
from tests.e2e.helpers import until
from tests.e2e.own_embedded_stack import worker_log
from tests.e2e.own_stack import own_stack
from tests.e2e.test_health_faults import green, red


async def test_refused_twilio_credentials_turn_health_red_until_accepted_again(
    pg_server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_KEEP_WARM_S", "0.5")  # the worker's environment
    monkeypatch.setenv("WORKER_HEARTBEAT_S", "0.5")
    async with own_stack(pg_server_url, tmp_path / "stack", health_cache_s=0.2) as stack:
        phones = SandboxPhones(stack.settings.twilio_api_base_url)
        try:
            await until(lambda: green(stack), within_s=30, what="a green /health")
            with capture_logs() as logs:
                await phones.rotate_auth_token("rotated-in-the-console")
                body = await until(lambda: red(stack, "telephony"), within_s=20, what="red")
                await phones.rotate_auth_token(stack.settings.twilio_auth_token.get_secret_value())
                await until(lambda: green(stack), within_s=20, what="green again")
        finally:
            await phones.close()
        told = [e["event"] for e in worker_log(stack) if e["event"].startswith("telephony_")]

    [reason] = body["reasons"]
    assert reason.startswith("telephony: worker ")
    assert "cannot reach the telephony provider: twilio reach: HTTP 401" in reason
    changes = [(e["event"], e["check"]) for e in logs if e["event"].startswith("health_check_")]
    assert changes == [
        ("health_check_failing", "telephony"),
        ("health_check_cleared", "telephony"),
    ]
    assert told == ["telephony_unreachable", "telephony_reachable_again"]
