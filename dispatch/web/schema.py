"""Schema-first routes: each route declares its query, body and response as pydantic
models; the registry parses requests strictly (no coercion, unknown fields refused),
serialises what the handler returns, and is what the OpenAPI document is built from.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from dispatch.web.http import ApiError, model_response
from dispatch.web.security import api_caller

JSON = "application/json"


class ApiModel(BaseModel):
    """A request or response of the API: strict (a string or a boolean is not an integer,
    a time needs its UTC offset), unknown fields refused, immutable."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class NoInput(ApiModel):
    """Nothing: a route that takes no query parameters or no body (any sent is refused)."""


Q = TypeVar("Q", bound=BaseModel)
B = TypeVar("B", bound=BaseModel)
R = TypeVar("R", bound=BaseModel)
M = TypeVar("M", bound=BaseModel)


def _refusal(exc: ValidationError, default_field: str) -> ApiError:
    """The first validation error as a 400 naming its field (dotted path into the body);
    an unknown field is named before a missing one (often it is the same one misspelt)."""
    errors = exc.errors(include_url=False)
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    field = ".".join(str(part) for part in err["loc"]) or default_field
    return ApiError(400, str(err["msg"]), field)


def parse_json(model: type[M], raw: bytes) -> M:
    """A JSON body as `model`, strictly; an empty body is the empty object. 400 otherwise
    (not JSON, nested too deep, not an object, a wrong or unknown field)."""
    try:
        return model.model_validate_json(raw if raw.strip() else b"{}", strict=True)
    except ValidationError as exc:
        raise _refusal(exc, "body") from None


def parse_query(model: type[M], request: web.Request) -> M:
    """The query string as `model`: each parameter once, read strictly as its type."""
    values: dict[str, str] = {}
    for name in request.query:
        given = request.query.getall(name)
        if len(given) > 1:
            raise ApiError(400, "is given more than once", name)
        values[name] = given[0]
    try:
        return model.model_validate_strings(values, strict=True)
    except ValidationError as exc:
        raise _refusal(exc, "query") from None


async def read_body(model: type[M], request: web.Request) -> M:
    """The request's JSON body as `model` (415 for a body that is not application/json)."""
    raw = await request.read()
    if raw.strip() and request.content_type != JSON:
        raise ApiError(415, f"send the body as {JSON}", "Content-Type")
    return parse_json(model, raw)


@dataclass(frozen=True)
class Operation:
    """One documented route: what it takes, what it answers, which refusals it may give."""

    method: str
    path: str
    name: str
    doc: str
    tag: str
    query: type[BaseModel]
    body: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int = 200
    errors: tuple[int, ...] = ()
    auth: bool = True  # needs a bearer token
    roles: frozenset[str] = frozenset()  # the token's role must be one of these (empty: any)
    media_type: str = JSON
    # Other answers than `status`: (code, model, description); a handler returning an
    # instance of `model` is answered with `code` (/health's 503).
    alternatives: tuple[tuple[int, type[BaseModel], str], ...] = ()

    def status_of(self, result: BaseModel) -> int:
        return next((c for c, m, _ in self.alternatives if isinstance(result, m)), self.status)

    def admit(self, request: web.Request) -> None:
        """401 without a known token, 403 for a role this route is not for."""
        if not self.auth:
            return
        caller = api_caller(request)
        if self.roles and caller.role not in self.roles:
            raise ApiError(403, f"only {' or '.join(sorted(self.roles))} may do this")


class ApiRoutes:
    """The routes of one area of the API, with the models they declare."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.table = web.RouteTableDef()
        self.operations: list[Operation] = []

    def _add(
        self,
        method: str,
        path: str,
        handler: Callable[..., Any],
        endpoint: Callable[[Operation, web.Request], Awaitable[web.StreamResponse]],
        **declared: Any,
    ) -> None:
        doc = inspect.getdoc(handler) or ""
        op = Operation(method, path, handler.__name__, doc, self.tag, **declared)
        self.operations.append(op)

        async def route(request: web.Request) -> web.StreamResponse:
            op.admit(request)
            return await endpoint(op, request)

        self.table.route(method, path)(route)

    def get(
        self,
        path: str,
        *,
        query: type[Q],
        response: type[BaseModel],
        errors: Iterable[int] = (),
        auth: bool = True,
        roles: Iterable[str] = (),
        alternatives: Iterable[tuple[int, type[BaseModel], str]] = (),
    ) -> Callable[
        [Callable[[web.Request, Q], Awaitable[R]]], Callable[[web.Request, Q], Awaitable[R]]
    ]:
        """A read: the query parsed as `query`, the handler's `response` answered with 200
        (or the code of the `alternatives` model it returned instead), for a token of one of
        `roles` when given."""

        def register(
            handler: Callable[[web.Request, Q], Awaitable[R]],
        ) -> Callable[[web.Request, Q], Awaitable[R]]:
            async def endpoint(op: Operation, request: web.Request) -> web.StreamResponse:
                result = await handler(request, parse_query(query, request))
                return model_response(result, op.status_of(result))

            self._add("GET", path, handler, endpoint, query=query, body=None, response=response,
                      errors=tuple(errors), auth=auth, roles=frozenset(roles),
                      alternatives=tuple(alternatives))  # fmt: skip
            return handler

        return register

    def post(
        self,
        path: str,
        *,
        body: type[B],
        response: type[R],
        status: int = 202,
        errors: Iterable[int] = (),
        roles: Iterable[str] = (),
    ) -> Callable[
        [Callable[[web.Request, B], Awaitable[R]]], Callable[[web.Request, B], Awaitable[R]]
    ]:
        """A change (always with a token, of one of `roles` when given): the JSON body
        parsed as `body`, the handler's `response` answered with `status`."""

        def register(
            handler: Callable[[web.Request, B], Awaitable[R]],
        ) -> Callable[[web.Request, B], Awaitable[R]]:
            async def endpoint(op: Operation, request: web.Request) -> web.StreamResponse:
                parse_query(NoInput, request)
                result = await handler(request, await read_body(body, request))
                return model_response(result, op.status)

            self._add("POST", path, handler, endpoint, query=NoInput, body=body, response=response,
                      status=status, errors=tuple(errors), roles=frozenset(roles))  # fmt: skip
            return handler

        return register

    def page(
        self, path: str, *, media_type: str
    ) -> Callable[
        [Callable[[web.Request], Awaitable[str]]], Callable[[web.Request], Awaitable[str]]
    ]:
        """A document that is not JSON (the human docs page): no query, text in `media_type`."""

        def register(
            handler: Callable[[web.Request], Awaitable[str]],
        ) -> Callable[[web.Request], Awaitable[str]]:
            async def endpoint(op: Operation, request: web.Request) -> web.StreamResponse:
                parse_query(NoInput, request)
                return web.Response(text=await handler(request), content_type=op.media_type)

            self._add("GET", path, handler, endpoint, query=NoInput, body=None, response=None,
                      auth=False, media_type=media_type)  # fmt: skip
            return handler

        return register
