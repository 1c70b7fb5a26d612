"""The faust codec that carries pydantic event envelopes on topics (no faust Records)."""

from __future__ import annotations

from typing import Any

from faust.serializers import codecs

from dispatch.events import Envelope
from dispatch.events.codec import EventDecodeError, decode, encode
from dispatch.worker.guard import Undecodable

CODEC_NAME = "act-envelope"


class EnvelopeCodec(codecs.Codec):
    def _dumps(self, obj: Any) -> bytes:
        if not isinstance(obj, Envelope):
            raise TypeError(f"only event envelopes travel on event topics, got {type(obj)!r}")
        return encode(obj)

    def _loads(self, s: bytes) -> Any:
        # Not an envelope: handed to the agent's guard, which dead-letters it (faust would
        # otherwise drop the message with a log line).
        try:
            return decode(s)
        except EventDecodeError as exc:
            return Undecodable(raw=bytes(s), error=str(exc))


def register_codec() -> None:
    codecs.register(CODEC_NAME, EnvelopeCodec())
