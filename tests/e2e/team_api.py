"""Talking to the team API and the command line as a team member would, for end-to-end
tests: a request with a bearer token, a `dispatch` command against the stack, a client's
row on the huddle board, and the journey events of a client's reviewed history."""

from __future__ import annotations

import asyncio
from typing import Any

from click.testing import CliRunner, Result

from dispatch.cli import main
from dispatch.stack.runtime import Stack

UNSHOWN = {"ClientRecordsViewed", "ContactTargetSet"}  # reads of the record, derived targets


async def call(api: Any, method: str, path: str, body: Any = None, *, token: str) -> Any:
    """(status, JSON answer) of one request to the team API with the bearer token."""
    resp = await api.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})
    return resp.status, await resp.json()


async def cli(stack: Stack, *args: str) -> Result:
    """`dispatch ARGS...` against the stack's database and broker (off the event loop)."""
    env = {"DATABASE_URL": stack.settings.database_url,
           "KAFKA_BOOTSTRAP_SERVERS": stack.settings.kafka_bootstrap_servers}  # fmt: skip
    return await asyncio.to_thread(CliRunner().invoke, main, list(args), env=env)


async def board_row(api: Any, client_id: str, token: str) -> Any:
    """The client's row on the token's team's huddle board (None: not on its caseload)."""
    status, board = await call(api, "GET", "/api/huddle", token=token)
    assert status == 200, board
    return next((c for c in board["clients"] if c["client_id"] == client_id), None)


async def history(api: Any, client_id: str, token: str) -> tuple[int, list[str]]:
    """(status, event types) of the client's history as the review API shows it to the
    token's team, without the reads of the record and the derived contact targets."""
    status, found = await call(api, "GET", f"/api/review/clients/{client_id}", token=token)
    return status, [e["type"] for e in found.get("entries", []) if e["type"] not in UNSHOWN]


def recorded(answer: Any) -> list[str]:
    """The types of the events a journey change recorded, from the API's answer."""
    return [e["type"] for e in answer["events"]]
