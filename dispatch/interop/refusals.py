"""One shape for what an import's services refuse: the input field at fault and why, whichever
service said it (journey, carers, roster) or the input model that would not take a value."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from dispatch.clients.intake import CarerRefused
from dispatch.clients.ports import JourneyRefused
from dispatch.rota.checks import RotaRefused

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
REFUSALS = (JourneyRefused, CarerRefused, RotaRefused, ValidationError)


class FieldRefused(ValueError):
    """A service's input field (`field`, dotted) and why it was refused."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def field_refusal(exc: Exception) -> FieldRefused:
    """The refusal of any import service as (field, message)."""
    if isinstance(exc, JourneyRefused | CarerRefused):
        return FieldRefused(exc.field, exc.message)
    if isinstance(exc, RotaRefused):
        return FieldRefused(exc.problem.field, exc.problem.message)
    if isinstance(exc, ValidationError):
        err = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in err["loc"]) or "input"
        return FieldRefused(field, str(err["msg"]).removeprefix("Value error, "))
    raise TypeError(f"not a refusal: {exc!r}")


def validated(model: type[M], data: Mapping[str, Any]) -> M:
    """The input model from the values given (absent ones left to their defaults)."""
    try:
        return model.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        raise field_refusal(exc) from None


async def deciding(making: Callable[[], Awaitable[T]]) -> T:
    """What a service call returns; its refusal as a FieldRefused."""
    try:
        return await making()
    except REFUSALS as exc:
        raise field_refusal(exc) from None
