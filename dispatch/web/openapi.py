"""The OpenAPI 3.1 document of the team-scoped API, generated from the routes' declared
models (pydantic's JSON Schema) when the app is made, served with a human docs page."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from aiohttp import web
from pydantic import BaseModel, RootModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from dispatch.web.docs_page import render_docs
from dispatch.web.http import ErrorBody
from dispatch.web.schema import JSON, ApiRoutes, NoInput, Operation

REF = "#/components/schemas/{model}"
BEARER = "bearerToken"
REFUSALS = {
    400: "A malformed request: a wrong, missing or unknown field (named in `field`)",
    401: "No bearer token, or an unknown one",
    403: "The token may not do this",
    404: "Nothing of that name in the caller's team",
    409: "Refused: it would change nothing (the reason says why)",
    413: "The body is larger than 64 KiB",
    415: f"The body is not {JSON}",
    422: "Well formed but not acceptable (the field says what)",
}
ABOUT = """\
The team-scoped API of act-dispatch. Every route but /health, /metrics and these docs needs
`Authorization: Bearer <token>` (API_TOKENS); a token sees its own team only.

Input is read strictly: a string or a boolean is not a number, times are ISO 8601 with a
UTC offset, and unknown fields or query parameters are refused. Every refusal (4xx,
including 405 for a method a path does not have) is JSON: `{"error": "...", "field": "..."}`,
`field` only when one is named."""

routes = ApiRoutes("service")


class OpenApiDocument(RootModel[dict[str, Any]]):
    """An OpenAPI 3.1 document."""


@dataclass(frozen=True)
class ApiDocs:
    document: dict[str, Any]
    page: str


DOCS: web.AppKey[ApiDocs] = web.AppKey("api_docs", ApiDocs)


def _schema_name(ref: dict[str, Any]) -> str:
    return str(ref["$ref"]).rsplit("/", 1)[1]


def _parameter_schema(field: dict[str, Any]) -> dict[str, Any]:
    """A query field's schema without its null branch: a parameter is given or left out."""
    schema = {k: v for k, v in field.items() if k not in ("description", "title")}
    options = [s for s in schema.get("anyOf", []) if s != {"type": "null"}]
    if len(options) == 1:
        del schema["anyOf"]
        schema = {**options[0], **schema}
    if "default" in schema and schema["default"] is None:
        del schema["default"]
    return schema


def _parameters(op: Operation, query: dict[str, Any]) -> list[dict[str, Any]]:
    path = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", op.path)
    ]
    required = set(query.get("required", ()))
    return path + [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": _parameter_schema(schema),
            **({"description": schema["description"]} if "description" in schema else {}),
        }
        for name, schema in query.get("properties", {}).items()
    ]


def _refusals(op: Operation) -> list[int]:
    codes = {400, *op.errors}
    if op.auth:
        codes.add(401)
    if op.roles:
        codes.add(403)
    if op.body is not None:
        codes |= {413, 415}
    return sorted(codes)


def _operation(
    op: Operation,
    refs: Mapping[tuple[Any, JsonSchemaMode], dict[str, Any]],
    schemas: dict[str, Any],
) -> dict[str, Any]:
    summary, _, description = op.doc.partition("\n")
    error = {JSON: {"schema": refs[(ErrorBody, "serialization")]}}
    answer = (
        {JSON: {"schema": refs[(op.response, "serialization")]}}
        if op.response is not None
        else {op.media_type: {"schema": {"type": "string"}}}
    )
    spec: dict[str, Any] = {
        "operationId": op.name,
        "summary": summary.strip(),
        "tags": [op.tag],
        "parameters": _parameters(op, schemas[_schema_name(refs[(op.query, "validation")])]),
        "responses": {
            str(op.status): {
                "description": "Accepted" if op.status == 202 else "OK",
                "content": answer,
            },
            **{str(c): {"description": REFUSALS[c], "content": error} for c in _refusals(op)},
            **{
                str(c): {
                    "description": d,
                    "content": {JSON: {"schema": refs[(m, "serialization")]}},
                }
                for c, m, d in op.alternatives
            },
        },
        "security": [{BEARER: []}] if op.auth else [],
    }
    if op.roles:
        description += f"\n\nOnly for the roles {', '.join(f'`{r}`' for r in sorted(op.roles))}."
    if description.strip():
        spec["description"] = description.strip()
    if op.body is not None and op.body.model_fields:
        required = any(f.is_required() for f in op.body.model_fields.values())
        spec["requestBody"] = {
            "required": required,
            "content": {JSON: {"schema": refs[(op.body, "validation")]}},
        }
    return spec


def openapi_document(operations: Sequence[Operation]) -> dict[str, Any]:
    """The document for these routes; every schema comes from a declared model."""
    wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {
        (ErrorBody, "serialization"): None
    }
    for op in operations:
        wanted[(op.query, "validation")] = None
        if op.body is not None:
            wanted[(op.body, "validation")] = None
        if op.response is not None:
            wanted[(op.response, "serialization")] = None
        for _, model, _ in op.alternatives:
            wanted[(model, "serialization")] = None
    refs, top = models_json_schema(list(wanted), ref_template=REF)
    schemas: dict[str, Any] = top.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "act-dispatch team API",
            "version": metadata.version("act-dispatch"),
            "description": ABOUT,
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                BEARER: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a token of API_TOKENS (token:team:role[:staff_id])",
                },
            },
        },
    }


@routes.get("/api/openapi.json", query=NoInput, response=OpenApiDocument, auth=False)
async def openapi(request: web.Request, _: NoInput) -> OpenApiDocument:
    """The OpenAPI 3.1 description of the team-scoped API (generated from its models)."""
    return OpenApiDocument(request.app[DOCS].document)


@routes.page("/api/docs", media_type="text/html")
async def api_docs(request: web.Request) -> str:
    """The same description as a page to read: every route, its fields and refusals."""
    return request.app[DOCS].page


def mount_api(app: web.Application, areas: Sequence[ApiRoutes]) -> list[Operation]:
    """Add the areas' routes, this module's two, and the document describing them all."""
    everything = [*areas, routes]
    for area in everything:
        app.add_routes(area.table)
    operations = [op for area in everything for op in area.operations]
    document = openapi_document(operations)
    app[DOCS] = ApiDocs(document=document, page=render_docs(document))
    return operations
