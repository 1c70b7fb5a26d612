"""The API's one error shape: every 4xx under /api/ (and /health) is
`{"error": "...", "field": "..."}`, whoever raised it (a handler, the router, the body reader).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import hdrs, web
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

log = structlog.get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
API_PATHS = ("/api/", "/health")


def _absent_when_none(schema: dict[str, Any]) -> None:
    schema.pop("default", None)  # null is never sent: the key is left out


class ErrorBody(BaseModel):
    """Why a request was refused; `field` names the offending field when there is one."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    error: str = Field(description="the reason, for a person")
    field: str | SkipJsonSchema[None] = Field(
        default=None,
        description="the field, query parameter or header at fault; absent when none is",
        json_schema_extra=_absent_when_none,
    )


class ApiError(Exception):
    """A refusal of the API: the HTTP status, the reason, and the field it is about."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(f"{status} {field or ''}: {message}")
        self.status = status
        self.message = message
        self.field = field


def model_response(model: BaseModel, status: int = 200) -> web.Response:
    """A response model as its JSON (datetimes ISO 8601, ids as strings)."""
    return web.Response(
        body=model.model_dump_json(exclude_none=isinstance(model, ErrorBody)),
        status=status,
        content_type="application/json",
    )


def error_response(status: int, message: str, field: str | None = None) -> web.Response:
    return model_response(ErrorBody(error=message, field=field), status)


def _message(exc: web.HTTPException) -> str:
    """aiohttp's own text ("413: Maximum request body size ...") without the status prefix."""
    text = exc.text or ""
    prefix = f"{exc.status}: "
    return text.removeprefix(prefix) if text.startswith(prefix) else exc.reason


@web.middleware
async def api_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refusals on API paths become the JSON error shape; other paths are left alone."""
    if not request.path.startswith(API_PATHS):
        return await handler(request)
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.message, exc.field)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.status >= 500:
            raise
        response = error_response(exc.status, _message(exc))
        if exc.status == 405:
            response.headers[hdrs.ALLOW] = exc.headers.get(hdrs.ALLOW, "")
        log.info("api_request_refused", path=request.path, status=exc.status)
        return response
