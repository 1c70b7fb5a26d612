"""The event catalogue: envelope, payloads, registry."""

from dispatch.events.catalogue import *  # noqa: F403
from dispatch.events.envelope import Envelope, EventPayload, derived_id, new_event
from dispatch.events.registry import EventDecodeError, decode, decode_obj, encode, topic_of

__all__ = [  # noqa: RUF022
    "Envelope",
    "EventPayload",
    "derived_id",
    "new_event",
    "EventDecodeError",
    "decode",
    "decode_obj",
    "encode",
    "topic_of",
]
