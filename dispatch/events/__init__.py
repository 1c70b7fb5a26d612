"""The event envelope. Payloads live in their areas (dispatch/<area>/events.py); the registry
of every type is dispatch.events.registry and the wire format dispatch.events.codec, each
imported by its own name (they import the areas, which import this package)."""

from dispatch.events.envelope import Envelope, EventPayload, derived_id, new_event

__all__ = ["Envelope", "EventPayload", "derived_id", "new_event"]
