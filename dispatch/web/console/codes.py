"""One-time sign-in codes sent by SMS: six random digits, valid CODE_VALID, used once.

Only an argon2id hash of the code (salted, bound to the account's name) is stored: a
million possible codes are no secret against a plain digest, while an argon2 hash costs
each guess tens of milliseconds of CPU, and the code is dead in ten minutes anyway.
Hashing and checking run in a thread (`asyncio.to_thread`). Pure: no I/O.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from dispatch.web.console.passwords import hash_password, verify_password

CODE_DIGITS = 6
CODE_VALID = timedelta(minutes=10)
CODE_SHAPE = re.compile(rf"^[0-9]{{{CODE_DIGITS}}}$")


def new_code() -> str:
    """Six random digits (leading zeros kept)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def normalise(typed: str) -> str:
    """What was typed, without the spaces or dashes a phone may show in it."""
    return re.sub(r"[\s-]", "", typed)[: CODE_DIGITS * 2]


def _secret(account_id: str, code: str) -> str:
    return f"{account_id}\x1f{code}"


def hash_code(account_id: str, code: str) -> str:
    return hash_password(_secret(account_id, code))


def code_matches(stored: str | None, account_id: str, typed: str) -> bool:
    """Whether `typed` is the code `stored` was made from for this account. No code stored
    (None) or a malformed one never matches, after the same work."""
    code = normalise(typed)
    matches = verify_password(stored, _secret(account_id, code))
    return matches and CODE_SHAPE.match(code) is not None


def code_sms(code: str) -> str:
    """The SMS: the code and its life, nothing about any client (one GSM-7 segment)."""
    minutes = int(CODE_VALID.total_seconds() // 60)
    return (f"Your dispatch console sign-in code is {code}. It works once, for {minutes} "
            "minutes. Not you? Tell your team lead.")  # fmt: skip
