"""TwiML documents, built with the SDK's VoiceResponse and MessagingResponse."""

from __future__ import annotations

from functools import lru_cache

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse


@lru_cache(maxsize=1024)  # a crisis call's answer: the same per team and step while the rota holds
def connect_caller(greeting: str, number: str, timeout_s: int, action_url: str | None) -> str:
    """Say the greeting, then dial `number`; Twilio requests `action_url` when the dial ends.
    A pure function of its arguments: kept for the next call that gets the same answer."""
    response = VoiceResponse()
    response.say(greeting)
    # The SDK leaves out attributes whose value is None, so no action means no attribute.
    response.dial(timeout=timeout_s, action=action_url or None).number(number)
    return str(response.to_xml())


def fallback_message(text: str, number: str | None) -> str:
    """Say `text`; then dial `number` (e.g. an out-of-hours service) if there is one."""
    response = VoiceResponse()
    response.say(text)
    if number:
        response.dial(number)
    return str(response.to_xml())


def hangup() -> str:
    """End the call."""
    response = VoiceResponse()
    response.hangup()
    return str(response.to_xml())


def voice_page(say: str, gather_action_url: str) -> str:
    """A paging call: read `say` and gather one key press (e.g. 1 accept, 2 escalate)."""
    response = VoiceResponse()
    response.gather(num_digits=1, action=gather_action_url, method="POST").say(say)
    return str(response.to_xml())


def sms_reply(text: str) -> str:
    """Reply to an inbound SMS with one message."""
    response = MessagingResponse()
    response.message(text)
    return str(response.to_xml())


def empty_sms_reply() -> str:
    """Acknowledge an inbound SMS without replying."""
    return str(MessagingResponse().to_xml())


def leave_message(text: str, action_url: str, max_length_s: int = 120) -> str:
    """Say `text`, then record a message; Twilio posts the recording to `action_url`."""
    response = VoiceResponse()
    response.say(text)
    response.record(
        max_length=max_length_s, action=action_url, method="POST", finish_on_key="#", play_beep=True
    )
    response.say("We did not receive a message. The team will still call you back.")
    return str(response.to_xml())
