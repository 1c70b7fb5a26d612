"""A process refuses to start with a built-in secret where real calls are made."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from dispatch.cli import main
from dispatch.settings import Settings
from dispatch.startup_checks import cautions, refusals

REAL = "https://api.twilio.com"
OWN = {
    "twilio_auth_token": "a-real-token",
    "twilio_account_sid": "AC" + "1" * 32,
    "default_crisis_number": "+18005550199",
}
HASHED = f"sha256:{hashlib.sha256(b'tok').hexdigest()}:act-north:team_lead"


def test_development_with_the_sandbox_starts_and_warns_about_plain_tokens() -> None:
    """The sandbox with its built-in token is fine; plain API tokens are only warned about."""
    settings = Settings(api_tokens="tok:act-north:team_lead")
    assert not settings.production()
    assert refusals(settings) == []
    assert cautions(settings) == ["API_TOKENS holds 1 plain token(s): refused in production"]


@pytest.mark.parametrize(
    "overrides",
    [{"twilio_api_base_url": REAL}, {"twilio_api_base_url": "https://api.dublin.ie1.twilio.com"},
     {"environment": "production"}],
)  # fmt: skip
def test_production_refuses_every_built_in_secret(overrides: dict[str, str]) -> None:
    """Real Twilio (any twilio.com host) or ENVIRONMENT=production: the sandbox token, the
    sandbox account and the built-in crisis number are each named as a refusal."""
    problems = refusals(Settings(**overrides))
    assert [p.split()[0] for p in problems] == [
        "TWILIO_AUTH_TOKEN",
        "TWILIO_ACCOUNT_SID",
        "DEFAULT_CRISIS_NUMBER",
    ]


def test_production_refuses_plain_tokens_and_accepts_hashed_ones() -> None:
    """In production an API token must be given as its SHA-256; then nothing is refused."""
    plain = Settings(twilio_api_base_url=REAL, api_tokens="tok:act-north:team_lead", **OWN)
    assert refusals(plain) == [
        "API_TOKENS holds plain tokens (real Twilio is configured); "
        "give each as sha256:<hex digest>:team:role"
    ]
    hashed = Settings(twilio_api_base_url=REAL, api_tokens=HASHED, **OWN)
    assert refusals(hashed) == [] and cautions(hashed) == []


def test_a_sandbox_on_another_host_is_not_real_twilio() -> None:
    """Only a twilio.com host counts as real Twilio (ENVIRONMENT=production covers the rest)."""
    assert not Settings(twilio_api_base_url="http://sandbox:8080").production()
    assert not Settings(twilio_api_base_url="https://twilio.com.example.org").production()


def test_the_worker_exits_2_naming_the_sandbox_token_with_real_twilio() -> None:
    """`dispatch worker` with real Twilio and the built-in token stops before connecting."""
    env = {"TWILIO_API_BASE_URL": REAL, "TWILIO_AUTH_TOKEN": "", "API_TOKENS": ""}
    env["TWILIO_AUTH_TOKEN"] = Settings.model_fields["twilio_auth_token"].default.get_secret_value()
    result = CliRunner(env=env).invoke(main, ["worker"])
    assert result.exit_code == 2
    assert "refusing to start: TWILIO_AUTH_TOKEN is the built-in sandbox value" in result.output


def test_up_refuses_a_malformed_token_list() -> None:
    """A broken API_TOKENS entry is a refusal to start, in development too."""
    result = CliRunner(env={"API_TOKENS": "lonely"}).invoke(main, ["up", "--no-worker"])
    assert result.exit_code == 2 and "API_TOKENS entries are" in result.output


def test_fallback_twiml_writes_a_document_that_dials_the_number(tmp_path: Path) -> None:
    """`dispatch fallback-twiml --out FILE` writes TwiML dialling DEFAULT_CRISIS_NUMBER (or
    --number); a number that is not E.164 is refused."""
    out = tmp_path / "site" / "fallback.xml"
    runner = CliRunner(env={"DEFAULT_CRISIS_NUMBER": "+18005550199"})
    assert runner.invoke(main, ["fallback-twiml", "--out", str(out)]).exit_code == 0
    assert "<Dial>+18005550199</Dial>" in out.read_text()
    result = runner.invoke(main, ["fallback-twiml", "--out", str(out), "--number", "999"])
    assert result.exit_code == 2 and "E.164" in result.output
    assert "<Dial>+18005550199</Dial>" in out.read_text()  # the old document stays
