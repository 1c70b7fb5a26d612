"""The small value types several areas' events and decisions share (plain literals only)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

Gender = Literal["female", "male", "nonbinary", "unspecified"]
ServiceModel = Literal["ACT", "ICM", "AOT"]  # AOT: Assertive Outreach (referral-only)
Channel = Literal["sms", "voice"]
ReplyChannel = Literal["sms", "voice", "api"]
RiskLevel = Literal["stable", "elevated", "high", "crisis"]
CallerKind = Literal["client", "carer", "unknown"]

E164_PATTERN = r"^\+[1-9]\d{6,14}$"
E164 = Field(pattern=E164_PATTERN)
"""A required phone number in E.164 form (`phone: str = E164`)."""
