"""SandboxPhones: a thin HTTP client for the sandbox's /sandbox/ endpoints (tests, demo)."""

from __future__ import annotations

from typing import Any

import aiohttp


class SandboxPhones:
    """Play the phones of a TwilioSandbox running at `base_url` (in this process or not)."""

    def __init__(self, base_url: str) -> None:
        self._base_url = base_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        # Created on first use: aiohttp sessions belong to a running event loop.
        if self._session is None:
            self._session = aiohttp.ClientSession(base_url=self._base_url + "/")
        return self._session

    async def _post(self, path: str, payload: dict[str, Any]) -> Any:
        async with self._http().post(path, json=payload) as response:
            if response.status >= 400:
                raise RuntimeError(
                    f"sandbox {path}: HTTP {response.status}: {await response.text()}"
                )
            return await response.json() if response.status != 204 else None

    async def _relay(self, path: str, payload: dict[str, Any]) -> tuple[int, str]:
        reply = await self._post(path, payload)
        return int(reply["status"]), str(reply["body"])

    async def send_sms(self, from_: str, to: str, body: str) -> tuple[int, str]:
        """Text `to` from `from_`; returns the app webhook's (HTTP status, response body)."""
        return await self._relay("sandbox/inbound/sms", {"from": from_, "to": to, "body": body})

    async def place_call(self, from_: str, to: str, call_sid: str | None = None) -> tuple[int, str]:
        """Ring `to` from `from_` (reuse `call_sid` to replay); returns (status, TwiML)."""
        payload = {"from": from_, "to": to, **({"call_sid": call_sid} if call_sid else {})}
        return await self._relay("sandbox/inbound/call", payload)

    async def press_digits(
        self, url: str, *, call_sid: str, from_: str, to: str, digits: str
    ) -> tuple[int, str]:
        """Post a Gather result (Digits) to `url`; returns (status, TwiML)."""
        payload = {"url": url, "call_sid": call_sid, "from": from_, "to": to, "digits": digits}
        return await self._relay("sandbox/inbound/digits", payload)

    async def _inspect(
        self, path: str, to: str | None, after: int, wait_s: float
    ) -> list[dict[str, Any]]:
        query: dict[str, str] = {"after": str(after), "wait": str(wait_s)}
        if to is not None:
            query["to"] = to
        timeout = aiohttp.ClientTimeout(total=wait_s + 10)
        async with self._http().get(path, params=query, timeout=timeout) as response:
            response.raise_for_status()
            found: list[dict[str, Any]] = await response.json()
            return found

    async def messages(self, to: str | None = None, after: int = 0) -> list[dict[str, Any]]:
        """Outbound messages recorded by the sandbox (index > after), oldest first."""
        return await self._inspect("sandbox/messages", to, after, 0)

    async def calls(self, to: str | None = None, after: int = 0) -> list[dict[str, Any]]:
        """Outbound calls recorded by the sandbox (index > after), oldest first."""
        return await self._inspect("sandbox/calls", to, after, 0)

    async def wait_for_sms(
        self,
        to: str,
        after: int = 0,
        timeout: float = 10.0,  # noqa: ASYNC109 - a server-side long-poll, not a local wait
    ) -> dict[str, Any]:
        """The first SMS to `to` with index > `after`; TimeoutError naming the number if none."""
        found = await self._inspect("sandbox/messages", to, after, timeout)
        if not found:
            raise TimeoutError(f"no SMS to {to} after #{after} within {timeout}s")
        return found[0]

    async def wait_for_call(
        self,
        to: str,
        after: int = 0,
        timeout: float = 10.0,  # noqa: ASYNC109 - a server-side long-poll, not a local wait
    ) -> dict[str, Any]:
        """The first call to `to` with index > `after`; TimeoutError naming the number if none."""
        found = await self._inspect("sandbox/calls", to, after, timeout)
        if not found:
            raise TimeoutError(f"no call to {to} after #{after} within {timeout}s")
        return found[0]

    async def set_phone(
        self, number: str, *, sms: str | None = None, voice: str | None = None
    ) -> dict[str, Any]:
        """sms: deliver|fail|undelivered; voice: human|machine|no-answer|busy."""
        payload = {k: v for k, v in {"sms": sms, "voice": voice}.items() if v is not None}
        result: dict[str, Any] = await self._post(f"sandbox/phones/{number}", payload)
        return result

    async def describe(self) -> dict[str, Any]:
        """The sandbox's settings and counts (GET /sandbox): messages, calls, the REST
        connections clients opened and the account reads."""
        async with self._http().get("sandbox") as response:
            response.raise_for_status()
            described: dict[str, Any] = await response.json()
            return described

    async def rotate_auth_token(self, auth_token: str) -> None:
        """The account's auth token is now `auth_token` (the old one is refused)."""
        await self._post("sandbox/credentials", {"auth_token": auth_token})

    async def inject_fault(
        self, status: int, count: int = 1, record: bool = False, delay_s: float = 0.0
    ) -> None:
        """The next `count` REST creates fail with `status` (5xx + record: "in doubt")."""
        payload = {"status": status, "count": count, "record": record, "delay_s": delay_s}
        await self._post("sandbox/faults", payload)

    async def clear_faults(self) -> None:
        async with self._http().delete("sandbox/faults") as response:
            response.raise_for_status()

    async def set_webhooks(self, voice_url: str | None, sms_url: str | None) -> None:
        await self._post("sandbox/webhooks", {"voice_url": voice_url, "sms_url": sms_url})

    async def set_fallbacks(self, voice_url: str | None, sms_url: str | None = None) -> None:
        """The numbers' fallback URLs (None clears one), used when the webhook fails."""
        payload = {"voice_fallback_url": voice_url, "sms_fallback_url": sms_url}
        await self._post("sandbox/webhooks", payload)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
