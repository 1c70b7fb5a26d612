"""The event types the worker's agents read, gathered from the agents' own filters.

A broker restore (dispatch/stack/restore.py) publishes only these from the archive: an event
no agent reads is needed by nobody on the broker (the projector's offsets are set past the
restored log, and the read models already hold it). Each agent filters on the constant
named here, so a new input of an agent is a new input of the restore too.
"""

from __future__ import annotations

from dispatch.risk.fold import FOLDED
from dispatch.worker.crisis_reader import CRISIS_CONTACTS
from dispatch.worker.dispatch_agents import PAGE_REQUESTS, REPLY_DECISIONS
from dispatch.worker.escalation_agent import RELEVANT as ESCALATION_INPUTS
from dispatch.worker.failover_agent import RELEVANT as FAILOVER_INPUTS
from dispatch.worker.followup_agent import INPUTS as FOLLOW_UP_INPUTS

RISK_INPUTS = frozenset(payload.event_type for payload in FOLDED)

WORKER_INPUTS: frozenset[str] = (
    CRISIS_CONTACTS
    | PAGE_REQUESTS
    | REPLY_DECISIONS
    | ESCALATION_INPUTS
    | FAILOVER_INPUTS
    | FOLLOW_UP_INPUTS
    | RISK_INPUTS
)
