"""The OpenAPI 3.1 description of the team-scoped HTTP API, as data (served at
/api/openapi.json). Every path needs `Authorization: Bearer <token>`; a token belongs to
one team and role (API_TOKENS) and sees only that team."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/responses/Error"}
_AT = {
    "name": "at",
    "in": "query",
    "required": False,
    "description": "ISO 8601 instant with a UTC offset; default now. Any past or future time.",
    "schema": {"type": "string", "format": "date-time"},
}
_STAFF = {
    "type": ["object", "null"],
    "required": ["staff_id", "team_id", "display_name", "role", "gender", "phone", "languages"],
    "properties": {
        "staff_id": {"type": "string"},
        "team_id": {"type": "string"},
        "display_name": {"type": "string"},
        "role": {"type": "string"},
        "gender": {"type": "string"},
        "phone": {"type": "string"},
        "languages": {"type": "array", "items": {"type": "string"}},
    },
}
_SEGMENT = {
    "type": "object",
    "required": ["layer", "starts_at", "ends_at", "staff_id", "source"],
    "properties": {
        "layer": {"$ref": "#/components/schemas/Layer"},
        "starts_at": {"type": "string", "format": "date-time"},
        "ends_at": {"type": "string", "format": "date-time"},
        "staff_id": {"type": ["string", "null"]},
        "source": {"enum": ["override", "shift", "rotation", "nobody", "fallback"]},
    },
}
_ON_CALL = {
    "type": "object",
    "required": ["team_id", "at", "covered", "primary", "backup", "fallback"],
    "properties": {
        "team_id": {"type": "string"},
        "at": {"type": "string", "format": "date-time"},
        "covered": {
            "type": "boolean",
            "description": "false: outside covered hours; calls go to the fallback",
        },
        "primary": {"$ref": "#/components/schemas/Staff"},
        "backup": {"$ref": "#/components/schemas/Staff"},
        "fallback": {
            "type": "object",
            "properties": {
                "team_id": {"type": ["string", "null"]},
                "number": {"type": ["string", "null"]},
            },
        },
    },
}
_ROTA = {
    "allOf": [
        {"$ref": "#/components/schemas/OnCall"},
        {
            "type": "object",
            "required": ["time_zone", "coverage", "timeline"],
            "properties": {
                "time_zone": {"type": "string"},
                "coverage": {
                    "type": "object",
                    "properties": {
                        "all_day": {"type": "boolean"},
                        "opens": {"type": ["string", "null"]},
                        "closes": {"type": ["string", "null"]},
                    },
                },
                "timeline": {
                    "type": "object",
                    "properties": {
                        layer: {"type": "array", "items": {"$ref": "#/components/schemas/Segment"}}
                        for layer in ("primary", "backup")
                    },
                },
            },
        },
    ]
}
_OVERRIDE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["layer", "staff_id", "starts_at", "ends_at"],
    "properties": {
        "layer": {"$ref": "#/components/schemas/Layer"},
        "staff_id": {"type": "string", "minLength": 1},
        "starts_at": {"type": "string", "format": "date-time"},
        "ends_at": {"type": "string", "format": "date-time"},
        "override_id": {"type": "string", "minLength": 1},
    },
}


def _ok(schema: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "act-dispatch team API",
        "version": "1.0.0",
        "description": "Team-scoped JSON API. Each bearer token belongs to one team.",
    },
    "security": [{"bearer": []}],
    "paths": {
        "/api/oncall": {
            "get": {
                "operationId": "getOnCall",
                "summary": "Who is on call for the caller's team at an instant",
                "parameters": [_AT],
                "responses": {"200": _ok("OnCall", "Each layer's cover"), "400": _ERROR},
            }
        },
        "/api/rota": {
            "get": {
                "operationId": "getRota",
                "summary": "The caller's team's rota from an instant: on call and timelines",
                "parameters": [
                    _AT,
                    {
                        "name": "hours",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 1488},
                    },
                ],
                "responses": {"200": _ok("Rota", "The rota"), "400": _ERROR},
            }
        },
        "/api/rota/overrides": {
            "post": {
                "operationId": "scheduleOverride",
                "summary": "Someone of the team covers a layer for a period (team lead, manager)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/OverrideRequest"}
                        }
                    },
                },
                "responses": {
                    "202": {
                        "description": "Accepted: spooled and relayed to Kafka as an event",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "override_id": {"type": "string"},
                                        "event_id": {"type": "string", "format": "uuid"},
                                    },
                                }
                            }
                        },
                    },
                    "400": _ERROR,
                    "403": {"description": "Your role may not change the rota"},
                    "422": _ERROR,
                },
            }
        },
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "responses": {
            "Error": {
                "description": "A refused request; `field` names the bad field",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["error", "field"],
                            "properties": {
                                "error": {"type": "string"},
                                "field": {"type": "string"},
                            },
                        }
                    }
                },
            }
        },
        "schemas": {
            "Layer": {"enum": ["primary", "backup"]},
            "Staff": _STAFF,
            "Segment": _SEGMENT,
            "OnCall": _ON_CALL,
            "Rota": _ROTA,
            "OverrideRequest": _OVERRIDE,
        },
    },
}
