"""Delivery reports of pages (Twilio status callbacks) recorded as PageDelivered / PageFailed.

SMS: delivered -> PageDelivered; failed or undelivered -> PageFailed.
Voice: answered by a person -> PageDelivered (not an acknowledgement: only pressing 1 is);
answered by a machine, no answer, busy, failed, canceled -> PageFailed with the reason.
What a report means is dispatch/paging/delivery.py's `page_outcome`.
"""

from __future__ import annotations

from uuid import UUID

import structlog
from aiohttp import web

from dispatch.events import derived_id, new_event
from dispatch.paging.delivery import page_outcome
from dispatch.web.context import ctx
from dispatch.web.webhook import bad_request, page_ids, parsed_form
from integrations.twilio.forms import delivery_report

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()


def incident_of(request: web.Request) -> UUID | None:
    """The incident's correlation id the callback URL names (c), None when it names none
    (a page sent before the URL carried it); a 400 naming c when it is not a UUID."""
    raw = request.query.get("c")
    if raw is None:
        return None
    try:
        return UUID(raw)
    except ValueError:
        raise bad_request("c: not a UUID", "c") from None


@routes.post("/twilio/status")
async def page_status(request: web.Request) -> web.Response:
    """A status callback of a page; the query names the page (n), its dispatch (d) and the
    incident (c): the report is spooled (a file while PostgreSQL is away) reading nothing."""
    c = ctx(request)
    notification_id, dispatch_id = page_ids(request)
    correlation = incident_of(request)
    report = await parsed_form(request, delivery_report)
    # Which SID is this page's: what an in-doubt page is matched by (docs/decisions/012).
    # Best effort: unrecorded, an in-doubt page is at worst sent again.
    try:
        await c.ledger.record_callback(
            notification_id,
            sid=report.provider_sid,
            status=report.provider_status,
            now=c.clock.now(),
        )
    except Exception as exc:  # the database is away: the report itself is still spooled
        log.warning("page_callback_not_recorded", error=repr(exc))
    outcome = page_outcome(report, notification_id, dispatch_id)
    if outcome is None:
        return web.Response(status=204)
    payload, dedup = outcome
    now = c.clock.now()
    if correlation is None:  # a page sent before its URL named the incident
        row = await c.read_models.dispatch(dispatch_id)
        correlation = row.correlation_id if row else None
    event = new_event(
        payload,
        key=str(dispatch_id),
        event_id=derived_id(notification_id, dedup),
        occurred_at=now,
        recorded_at=now,
        actor="twilio:status",
        correlation_id=correlation,
    )
    await c.spool.record([event])
    log.info(
        "page_status", notification_id=str(notification_id), status=dedup, **event.log_context()
    )
    return web.Response(status=204)
