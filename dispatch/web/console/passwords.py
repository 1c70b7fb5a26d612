"""Passwords of console accounts: argon2id hashes (argon2-cffi's RFC 9106 low-memory
profile), a length rule, and a verification that takes as long for an unknown account.

Hashing costs tens of milliseconds of CPU on purpose: callers in the event loop run it in a
thread (`asyncio.to_thread`)."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 256  # a longer one would only make hashing a way to load the server


class PasswordRefused(ValueError):
    """A new password that does not meet the rule; the message says why, for a person."""


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@cache
def _unknown_account_hash() -> str:
    """A hash to verify against when the name is unknown, so the answer takes as long."""
    return _hasher().hash("no account has this password")


def check_new_password(password: str, *, account_id: str) -> str:
    """The password if it may be used; PasswordRefused saying why otherwise."""
    if len(password) < MIN_LENGTH:
        raise PasswordRefused(f"use at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordRefused(f"use at most {MAX_LENGTH} characters")
    if password.strip() != password or not password.strip():
        raise PasswordRefused("do not start or end with spaces")
    if account_id.lower() in password.lower():
        raise PasswordRefused("do not include your sign-in name")
    return password


def hash_password(password: str) -> str:
    """The argon2id hash (salt and parameters included) to store."""
    return _hasher().hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether `password` is the one `stored` was made from. An account without a password
    (None) or an unreadable hash never matches, after the same amount of work."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher().verify(stored or _unknown_account_hash(), password) and bool(stored)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher().check_needs_rehash(stored)
