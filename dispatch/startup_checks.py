"""What a process checks before it starts: no built-in secret where real calls are made.

"Production" means a real Twilio URL (TWILIO_API_BASE_URL on twilio.com) or ENVIRONMENT=
production. There, a built-in default secret or number, or an API token given in plain
text, is a refusal to start; in development the plain tokens are only warned about.
"""

from __future__ import annotations

from dispatch.settings import Settings

# Settings whose built-in default is fit for the sandbox only.
_BUILT_IN = ("twilio_auth_token", "twilio_account_sid", "default_crisis_number")


def _is_default(settings: Settings, name: str) -> bool:
    default = Settings.model_fields[name].default
    value = getattr(settings, name)
    if hasattr(value, "get_secret_value"):
        return bool(value.get_secret_value() == default.get_secret_value())
    return bool(value == default)


def refusals(settings: Settings) -> list[str]:
    """Why this configuration must not start (empty: it may)."""
    try:
        tokens = settings.api_token_table()
    except ValueError as exc:
        return [str(exc)]
    if not settings.production():
        return []
    why = "real Twilio is configured" if settings.real_twilio() else "ENVIRONMENT=production"
    found = [
        f"{name.upper()} is the built-in sandbox value ({why}); set your own"
        for name in _BUILT_IN
        if _is_default(settings, name)
    ]
    if any(not token.hashed for token in tokens):
        found.append(
            f"API_TOKENS holds plain tokens ({why}); give each as sha256:<hex digest>:team:role"
        )
    return found


def cautions(settings: Settings) -> list[str]:
    """What is allowed here but would be refused in production (call after `refusals`)."""
    if settings.production():
        return []
    plain = sum(1 for token in settings.api_token_table() if not token.hashed)
    if plain:
        return [f"API_TOKENS holds {plain} plain token(s): refused in production"]
    return []
