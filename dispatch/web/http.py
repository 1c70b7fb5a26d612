"""JSON responses shared by the team-scoped API's endpoints."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

from aiohttp import web


def json_response(data: Any, status: int = 200) -> web.Response:
    """`data` as JSON; datetimes as ISO 8601, dataclasses as their fields."""

    def default(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return dataclasses.asdict(value)
        raise TypeError(f"cannot encode {type(value)!r}")

    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, default=default))


def json_error(status: int, message: str, field: str | None = None) -> web.Response:
    """{"error": message, "field": field} (no "field" when none is named)."""
    body: dict[str, str] = {"error": message}
    if field is not None:
        body["field"] = field
    return json_response(body, status=status)
