"""A carer on the crisis line: what the client's consent in force lets them be told.

Read at the ring from the consent read model (a revocation is in force from the moment it
is projected). The client's crisis status is looked up only when the client shares it.
When PostgreSQL cannot be reached the consent is unknown: the carer is told nothing, and
the call is still put through and spooled like any other (a failed read must never cost
the caller their dispatch).
"""

from __future__ import annotations

import structlog

from dispatch.clients.events import CONSENT_SHARES
from dispatch.crisis.calltree import CarerConsentSeen
from dispatch.ingress.outage_spool import DATABASE_DOWN
from dispatch.web.context import WebContext
from projections.models import Caller

log = structlog.get_logger(__name__)


async def carer_seen(c: WebContext, who: Caller) -> CarerConsentSeen | None:
    """For a carer's call, what they may be told; None for anyone else."""
    if who.kind != "carer" or who.client_id is None or who.carer_id is None:
        return None
    try:
        consent = await c.carers.consent(who.client_id, who.carer_id)
        shares = tuple(s for s in CONSENT_SHARES if consent is not None and consent.allows(s))
        crisis_open = "crisis_status" in shares and await c.carers.crisis_open(who.client_id)
    except DATABASE_DOWN as exc:
        log.error("carer_consent_unreadable", client_id=who.client_id, carer_id=who.carer_id,
                  error=type(exc).__name__)  # fmt: skip
        return CarerConsentSeen((), False)
    log.info("carer_call_consent", client_id=who.client_id, carer_id=who.carer_id,
             shares=list(shares))  # fmt: skip
    return CarerConsentSeen(shares, crisis_open)
