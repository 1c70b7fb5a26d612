"""Staff SMS replies: ACK <code>, DONE <code> <outcome>, ESC <code>."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from dispatch.crisis.codes import CODE_LENGTH, normalise_code

ReplyVerb = Literal["ACK", "DONE", "ESC"]
HELP = (
    "Reply ACK <code> to take a dispatch, DONE <code> <outcome> to close it, "
    "ESC <code> to pass it on."
)

_REPLY = re.compile(
    rf"^\s*(?P<verb>[A-Za-z]+)\s+(?P<code>[0-9A-Za-z]{{{CODE_LENGTH}}})\b\s*(?P<rest>.*)$", re.S
)
_VERBS: dict[str, ReplyVerb] = {"ACK": "ACK", "ACCEPT": "ACK", "DONE": "DONE", "ESC": "ESC"}


@dataclass(frozen=True)
class StaffReply:
    verb: ReplyVerb
    code: str
    outcome: str


class ReplyError(ValueError):
    """The text is not a reply we understand; the message says what to send instead."""


def parse_reply(text: str) -> StaffReply:
    match = _REPLY.match(text)
    if match is None:
        raise ReplyError(f"Not understood. {HELP}")
    verb = _VERBS.get(match["verb"].upper())
    if verb is None:
        raise ReplyError(f"Unknown word {match['verb']!r}. {HELP}")
    outcome = " ".join(match["rest"].split())[:200]
    if verb == "DONE" and not outcome:
        raise ReplyError(f"DONE needs an outcome, e.g. DONE {match['code'].upper()} visited, safe.")
    return StaffReply(verb=verb, code=normalise_code(match["code"]), outcome=outcome)
