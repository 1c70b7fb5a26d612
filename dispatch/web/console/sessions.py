"""Console sessions and forms: random tokens kept server-side by digest, expiry, the
cookie's attributes, and the CSRF check every POST passes. Pure: no I/O, time passed in."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

SESSION_COOKIE = "console_session"
LOGIN_COOKIE = "console_login"  # the signed-out forms' CSRF token (double submit)
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
TOKEN_BYTES = 32
SETUP_LINK_VALID = timedelta(hours=24)
LOGIN_FORM_VALID = timedelta(hours=1)


def new_token() -> str:
    """A random URL-safe token (256 bits)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def digest(token: str) -> str:
    """What is stored for a token: its SHA-256, so a database read gives no live session."""
    return hashlib.sha256(token.encode()).hexdigest()


def expires_at(now: datetime, lifetime: timedelta) -> datetime:
    return now + lifetime


def is_expired(expiry: datetime, now: datetime) -> bool:
    return expiry <= now


def csrf_matches(expected: str | None, presented: str | None) -> bool:
    """The form carried this session's token (compared in constant time)."""
    if not expected or not presented:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode())


@dataclass(frozen=True)
class CookieRules:
    """How the console's cookies are set: HttpOnly, SameSite=Lax (a link from an SMS or a
    mail still opens signed in; every change is a POST with the CSRF token), Secure
    whenever the console is served over https, and an expiry."""

    secure: bool
    same_site: Literal["Lax", "Strict"] = "Lax"

    def attributes(self, max_age: timedelta) -> dict[str, str | int | bool]:
        return {
            "httponly": True,
            "samesite": self.same_site,
            "secure": self.secure,
            "path": "/",
            "max_age": max(0, int(max_age.total_seconds())),
        }


def cookie_rules(public_base_url: str) -> CookieRules:
    return CookieRules(secure=public_base_url.lower().startswith("https://"))


def safe_next(path: str | None, default: str = "/console/") -> str:
    """Where to go after signing in: only a path of this console, never another site."""
    if not path or not path.startswith(("/console", "/d/")) or "//" in path or "\\" in path:
        return default
    return path
