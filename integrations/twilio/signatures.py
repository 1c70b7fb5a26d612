"""X-Twilio-Signature: check a webhook (app side) or sign one (sandbox side), via the SDK."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


def validate_twilio_request(
    url: str, params: Mapping[str, str], signature: str | None, auth_token: str
) -> bool:
    """True when `signature` is Twilio's HMAC of the full URL and the POST params.

    `url` must be the URL exactly as Twilio requested it (scheme, host, path and query);
    the SDK also accepts it with or without the default port. A missing signature is False.
    """
    if not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, params, signature))


def sign(url: str, params: Mapping[str, str], auth_token: str) -> str:
    """The X-Twilio-Signature value Twilio would send when POSTing `params` to `url`."""
    return str(RequestValidator(auth_token).compute_signature(url, params))
