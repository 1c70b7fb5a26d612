"""A dispatch found by its code as soon as its page can reach a phone.

A page goes out milliseconds after its dispatch is decided (decision 049), while the read
model has the dispatch only once the projector has applied it: tens of milliseconds later
on a quiet stack, up to a second or more under load. Someone who acts on the page they have
just been sent (the API, the console) must not be told that their dispatch does not exist.
So a code the page ledger knows (a page was claimed with it) but the read model does not
have yet is waited for, up to PAGED_DISPATCH_WAIT_S. A code nobody was paged with, or the
dispatch of another team, is answered at once.
"""

from __future__ import annotations

import asyncio

from dispatch.bootstrap import Services
from projections.models import Dispatch

PAGED_DISPATCH_WAIT_S = 3.0  # the projector's lag it covers; past it, "no such dispatch"
POLL_S = 0.05


async def paged_dispatch(c: Services, code: str, *, team_id: str | None) -> Dispatch | None:
    """The team's dispatch with this code (any team's when `team_id` is None), or None."""
    row = await c.read_models.dispatch_by_code(code, team_id=team_id)
    if row is not None:
        return row
    paged = await c.ledger.dispatch_for_code(code)
    if paged is None:
        return None  # nobody was paged with this code
    dispatch_id = paged[0]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PAGED_DISPATCH_WAIT_S
    while (row := await c.read_models.dispatch(dispatch_id)) is None:
        if loop.time() >= deadline:
            return None
        await asyncio.sleep(POLL_S)
    return row if team_id is None or row.team_id == team_id else None
