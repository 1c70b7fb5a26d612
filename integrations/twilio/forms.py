"""Twilio webhook forms translated into typed values; Twilio's field names stop here.

Each class reads one kind of webhook form (a dict of strings) into a frozen value whose
fields are named in the project's words. A missing or malformed field is a FormError naming
the form field, which the web edge answers with 400. No I/O: parsing only.

Status callbacks become the core's DeliveryReport: here, and only here, Twilio's words
("undelivered", "no-answer", "machine_start") are sorted into what they mean for a page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dispatch.paging.delivery import DeliveryReport, Progress

_CALL_UNANSWERED = frozenset({"no-answer", "busy", "failed", "canceled"})
_SMS_FAILED = frozenset({"failed", "undelivered"})
_PROBLEMS = {"missing": "missing", "string_too_short": "empty", "int_parsing": "not an integer"}


class FormError(ValueError):
    """A webhook form lacks a field Twilio always sends, or has one of the wrong shape."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class _Form(BaseModel):
    # Twilio adds fields over time: unknown ones are ignored, never an error.
    model_config = ConfigDict(frozen=True, strict=True, extra="ignore")

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> Self:
        """The typed value of `form`, or FormError naming the first bad field."""
        try:
            return cls.model_validate(dict(form))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else "form"
            raise FormError(field, _PROBLEMS.get(first["type"], first["msg"])) from None


class InboundCall(_Form):
    """A call to a crisis line (the voice webhook)."""

    call_sid: str = Field(alias="CallSid", min_length=1)
    caller_number: str = Field(alias="From")
    line_number: str = Field(alias="To")


class DialResult(_Form):
    """How a dial the caller was put through ended (the Dial action)."""

    dial_status: str = Field(alias="DialCallStatus", default="")

    @property
    def connected(self) -> bool:
        """The dialled person answered and the conversation has ended."""
        return self.dial_status == "completed"


class RecordingCallback(_Form):
    """The message a caller left (the Record action)."""

    call_sid: str = Field(alias="CallSid", min_length=1)
    recording_sid: str = Field(alias="RecordingSid", min_length=1)
    recording_url: str = Field(alias="RecordingUrl", default="")
    duration_s: int = Field(alias="RecordingDuration", default=0, strict=False)
    caller_number: str = Field(alias="From", default="")


class InboundSms(_Form):
    """A text to one of our numbers: the crisis line or a paging number."""

    message_sid: str = Field(alias="MessageSid", min_length=1)
    sender_number: str = Field(alias="From")
    to_number: str = Field(alias="To")
    body: str = Field(alias="Body", default="")


class GatherResult(_Form):
    """The key a paged person pressed on a paging call (the Gather action)."""

    call_sid: str = Field(alias="CallSid", min_length=1)
    digits: str = Field(alias="Digits", default="")


class SmsStatusCallback(_Form):
    """Progress of an SMS page."""

    message_sid: str = Field(alias="MessageSid", min_length=1)
    status: str = Field(alias="MessageStatus", min_length=1)
    error_code: str = Field(alias="ErrorCode", default="")

    def report(self) -> DeliveryReport:
        """What this callback says about the page."""
        progress: Progress
        if self.status == "delivered":
            progress = "delivered"
        elif self.status in _SMS_FAILED:
            progress = "failed"
        else:  # queued, sending, sent, ...: not an outcome yet
            progress = "pending"
        return DeliveryReport(
            channel="sms",
            provider_sid=self.message_sid,
            provider_status=self.status,
            progress=progress,
            detail=self.error_code,
        )


class CallStatusCallback(_Form):
    """Progress of a voice page, with what answering-machine detection heard."""

    call_sid: str = Field(alias="CallSid", min_length=1)
    status: str = Field(alias="CallStatus", min_length=1)
    answered_by: str = Field(alias="AnsweredBy", default="")
    error_code: str = Field(alias="ErrorCode", default="")

    def report(self) -> DeliveryReport:
        """What this callback says about the page."""
        progress: Progress
        # The detection result comes with the answered and the completed callbacks alike.
        if self.answered_by.startswith("machine") or self.answered_by == "fax":
            progress, detail = "machine", self.answered_by
        elif self.status in _CALL_UNANSWERED:
            progress, detail = "failed", self.error_code
        elif self.status == "in-progress":  # a person (or no detection) picked up
            progress, detail = "answered", ""
        else:  # initiated, ringing, a person's call completing
            progress, detail = "pending", ""
        return DeliveryReport(
            channel="voice",
            provider_sid=self.call_sid,
            provider_status=self.status,
            progress=progress,
            detail=detail,
        )


def delivery_report(form: Mapping[str, str]) -> DeliveryReport:
    """A status callback of a page, SMS or call (a call's form carries CallStatus)."""
    if form.get("CallStatus"):
        return CallStatusCallback.parse(form).report()
    return SmsStatusCallback.parse(form).report()


FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def encoded_form(params: Mapping[str, object]) -> bytes:
    """A POST body as aiohttp encodes a dict (a list value repeats its key), without the
    FormData it builds for every request."""
    return urlencode(params, doseq=True).encode()
