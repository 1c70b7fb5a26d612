"""A worker reports ready only once it can page: its services built and the Twilio SDK's
resources loaded (no request made); a worker whose database is away still starts."""

from __future__ import annotations

import sys
from typing import Any

from dispatch.clock import SystemClock
from dispatch.settings import Settings
from dispatch.worker.resources import WorkerServices
from integrations.twilio.client import TwilioTelephony


async def test_telephony_warm_loads_the_sdk_resources_without_a_request() -> None:
    telephony = TwilioTelephony(
        account_sid="AC00000000000000000000000000000000",
        auth_token="token",
        from_number="+15005550006",
        api_base_url="http://127.0.0.1:9",  # nothing listens: a request would fail
    )
    try:
        telephony.warm()
        assert any(name.startswith("twilio.rest.api.v2010") for name in sys.modules)
        client: Any = telephony._client()
        assert client.messages is not None and client.calls is not None
    finally:
        await telephony.close()


async def test_warm_never_raises_when_the_services_cannot_be_built() -> None:
    services = WorkerServices(Settings(database_url=""), clock=SystemClock())
    await services.warm()  # DATABASE_URL empty: bootstrap refuses; the worker still starts
    await services.close()
