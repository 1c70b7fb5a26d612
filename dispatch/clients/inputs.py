"""What a person sends to change a client's journey, read the same way from the command line
and the team API (whose body models are these, read strictly). Unknown fields are refused;
`occurred_at` (default now) is ISO 8601 with a UTC offset."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from dispatch.clients.events import ContactKind, ContactPlace, Phone, ReferralSource
from dispatch.clients.ports import JourneyRefused
from dispatch.vocabulary import Gender

Id = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")]
Code = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z0-9_]+$")]
Text = Annotated[str, Field(max_length=500)]
Said = Annotated[str, Field(min_length=1, max_length=500)]
WHEN = "when it happened, ISO 8601 with a UTC offset (default: now)"


class JourneyInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    occurred_at: AwareDatetime | None = Field(default=None, description=WHEN)


class ReferralInput(JourneyInput):
    """A referral to the team: who the client is, who refers them, which criteria are met."""

    display_name: str = Field(min_length=1, max_length=80)
    source: ReferralSource
    source_team: str | None = Field(default=None, min_length=1, max_length=120)
    criteria_met: tuple[Code, ...] = Field(min_length=1, max_length=12)
    note: Text = ""


class DeclineInput(JourneyInput):
    """Why the team does not take the referred client on."""

    reason: Said


class EnrolInput(JourneyInput):
    """The client joins the team's caseload (the team: `--team`, or the token's)."""

    display_name: str | None = Field(default=None, min_length=1, max_length=80)
    phones: tuple[Phone, ...] = Field(default=(), max_length=4)
    care_coordinator_id: Id | None = None
    preferred_gender: Gender = "unspecified"
    language: str = Field(default="en", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
    cultural_needs: Text = ""


class TransferInput(JourneyInput):
    """The client moves to another team, which takes over at its first face-to-face visit."""

    to_team_id: Id
    care_coordinator_id: Id | None = None
    reason: Text = ""


class _Involving(JourneyInput):
    client_involved: bool = True
    carers_involved: tuple[Id, ...] = Field(default=(), max_length=8)


class DischargeInput(_Involving):
    """A discharge from the caseload and who planned it with the team."""

    reason: Said
    planned: bool = True


class ReReferralInput(JourneyInput):
    """A discharged client back on the team's caseload in one step."""

    source: ReferralSource
    source_team: str | None = Field(default=None, min_length=1, max_length=120)
    reason: Text = ""
    care_coordinator_id: Id | None = None


class ContactInput(JourneyInput):
    """A contact with the client; every staff member named counts it (the team approach)."""

    kind: ContactKind
    staff_ids: tuple[Id, ...] = Field(min_length=1, max_length=6)
    where: ContactPlace | None = None
    minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    note: Text = ""
    carer_id: Id | None = None  # the client's carer took part (their consent in force)


class CarePlanInput(_Involving):
    """The client's care plan under the Care Programme Approach."""

    summary: Said
    goals: tuple[Said, ...] = Field(default=(), max_length=20)
    care_coordinator_id: Id | None = None


class CarePlanReviewInput(_Involving):
    """A review of the care plan; `goals` replace the plan's when given."""

    note: Said
    goals: tuple[Said, ...] | None = Field(default=None, max_length=20)


M = TypeVar("M", bound=BaseModel)


def parse_input(model: type[M], data: Any) -> M:
    """The input as `model`, or JourneyRefused naming the first bad field (the command line
    reads the same models as the API, without its strictness about types)."""
    if not isinstance(data, dict):
        raise JourneyRefused("body", "send a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        field = ".".join(str(p) for p in err["loc"]) or "body"
        raise JourneyRefused(field, str(err["msg"])) from None
