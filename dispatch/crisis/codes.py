"""Short dispatch codes: what a page carries instead of any client detail."""

from __future__ import annotations

import uuid

# Crockford base32 without I, L, O, U: nothing that reads as another character on a phone.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 5
_LOOKALIKES = str.maketrans("OIL", "011")


def short_code(dispatch_id: uuid.UUID) -> str:
    """Five characters derived from the dispatch id (the same id always gives the same code)."""
    n = dispatch_id.int >> (128 - 5 * CODE_LENGTH)
    chars = []
    for _ in range(CODE_LENGTH):
        chars.append(_ALPHABET[n & 31])
        n >>= 5
    return "".join(reversed(chars))


def normalise_code(text: str) -> str:
    """Read a code as typed on a phone: case-insensitive, O->0, I/L->1."""
    return text.strip().upper().translate(_LOOKALIKES)
