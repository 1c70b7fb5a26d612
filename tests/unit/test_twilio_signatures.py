"""A webhook's signature is accepted exactly when the Twilio SDK's own validator accepts it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from integrations.twilio.signatures import sign, validate_twilio_request

TOKEN = "f" * 32
URLS = [
    "https://dispatch.example.org/twilio/voice?team=t-north",
    "https://dispatch.example.org:443/twilio/voice?team=t-north",
    "http://127.0.0.1:8080/twilio/sms/status",
    "http://127.0.0.1/twilio/sms/status",
    "http://127.0.0.1:80/twilio/sms/status",
]
FORMS = st.dictionaries(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij", min_size=1, max_size=12),
    st.text(max_size=30),
    max_size=20,
)


@settings(max_examples=200, deadline=None)
@given(signed_url=st.sampled_from(URLS), checked_url=st.sampled_from(URLS), form=FORMS)
def test_the_same_verdict_as_the_sdk(
    signed_url: str, checked_url: str, form: dict[str, str]
) -> None:
    signature = sign(signed_url, form, TOKEN)
    sdk = RequestValidator(TOKEN).validate(checked_url, form, signature)
    assert validate_twilio_request(checked_url, form, signature, TOKEN) is sdk


def test_a_url_with_or_without_its_default_port_is_accepted() -> None:
    form = {"CallSid": "CA1", "From": "+15550100"}
    with_port = sign("https://dispatch.example.org:443/twilio/voice", form, TOKEN)
    assert validate_twilio_request(
        "https://dispatch.example.org/twilio/voice", form, with_port, TOKEN
    )
    without = sign("https://dispatch.example.org/twilio/voice", form, TOKEN)
    assert validate_twilio_request(
        "https://dispatch.example.org:443/twilio/voice", form, without, TOKEN
    )


def test_a_changed_parameter_a_wrong_token_or_no_signature_is_refused() -> None:
    url, form = "http://127.0.0.1:8080/twilio/voice", {"CallSid": "CA1", "From": "+15550100"}
    signature = sign(url, form, TOKEN)
    assert validate_twilio_request(url, form, signature, TOKEN)
    assert not validate_twilio_request(url, {**form, "From": "+15550199"}, signature, TOKEN)
    assert not validate_twilio_request(url, form, sign(url, form, "e" * 32), TOKEN)
    assert not validate_twilio_request(url, form, "", TOKEN)
    assert not validate_twilio_request(url, form, None, TOKEN)
    assert not validate_twilio_request(url, form, "ünïcode-signature", TOKEN)
