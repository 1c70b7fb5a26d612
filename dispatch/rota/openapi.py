"""The OpenAPI 3.1 description of the team-scoped HTTP API, as data (served at
/api/openapi.json). Every path needs `Authorization: Bearer <token>`; a token belongs to
one team and role (API_TOKENS) and sees only that team; acting on a dispatch also needs
the token to name a staff member (token:team:role:staff_id)."""

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

_TS = {"type": "string", "format": "date-time"}
_TS_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
_TEXT_OR_NULL = {"type": ["string", "null"]}
_DISPATCH = {
    "type": "object",
    "properties": {
        "dispatch_id": {"type": "string", "format": "uuid"},
        "short_code": {"type": "string", "pattern": "^[0-9A-Z]{5}$"},
        "team_id": {"type": "string"},
        "client_id": _TEXT_OR_NULL,
        "caller_kind": {"enum": ["client", "carer", "unknown"]},
        "reason": {"enum": ["crisis_call", "crisis_text", "risk_high"]},
        "risk_level": {"enum": ["stable", "elevated", "high", "crisis"]},
        "assigned_staff_id": _TEXT_OR_NULL,
        "status": {"enum": ["open", "acknowledged", "resolved"]},
        "opened_at": _TS,
        "acknowledged_at": _TS_OR_NULL,
        "acknowledged_by": _TEXT_OR_NULL,
        "resolved_at": _TS_OR_NULL,
        "resolved_by": _TEXT_OR_NULL,
        "outcome": _TEXT_OR_NULL,
        "correlation_id": {"type": "string", "format": "uuid"},
        "escalation_sequence": {"type": "integer", "minimum": 0},
    },
}
_PAGE = {
    "type": "object",
    "properties": {
        "notification_id": {"type": "string", "format": "uuid"},
        "step": {"type": "integer"},
        "attempt": {"type": "integer"},
        "channel": {"enum": ["sms", "voice"]},
        "staff_id": {"type": "string"},
        "requested_at": _TS,
        "status": {"type": "string"},
        "provider_sid": _TEXT_OR_NULL,
        "failure_reason": _TEXT_OR_NULL,
        "updated_at": _TS,
    },
}
_ARCHIVED = {
    "type": "object",
    "description": "One event of the dispatch's history, in event-time order",
    "properties": {
        "event_id": {"type": "string", "format": "uuid"},
        "type": {"type": "string"},
        "occurred_at": _TS,
        "recorded_at": _TS,
        "actor": {"type": "string"},
        "payload": {"type": "object"},
    },
}
_ACCEPTED_ACTION = {
    "type": "object",
    "required": ["dispatch_id", "code", "action", "event_ids", "duplicate"],
    "properties": {
        "dispatch_id": {"type": "string", "format": "uuid"},
        "code": {"type": "string"},
        "action": {"enum": ["ack", "esc", "resolve"]},
        "event_ids": {"type": "array", "items": {"type": "string", "format": "uuid"}},
        "duplicate": {"type": "boolean", "description": "true: a retry; nothing new recorded"},
    },
}
_CODE = {
    "name": "code",
    "in": "path",
    "required": True,
    "description": "The dispatch's five-character code (as in the page; case-insensitive)",
    "schema": {"type": "string"},
}
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Same key, same token: recorded once. Without it, the same token, code, "
    "action and body are recorded once.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}


def _action(operation_id: str, summary: str, body: dict[str, Any] | None) -> dict[str, Any]:
    """A POST that acts on a dispatch as the token's staff member (token:team:role:staff_id)."""
    op: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "parameters": [_CODE, _IDEMPOTENCY_KEY],
        "responses": {
            "202": {
                "description": "Accepted: the events are spooled and relayed to Kafka",
                "content": {"application/json": {"schema": _ACCEPTED_ACTION}},
            },
            "400": _ERROR,
            "401": {"description": "No or unknown bearer token"},
            "403": {"description": "The token names no staff member of its team"},
            "404": {"description": "No dispatch with that code in your team"},
            "409": {
                "description": "Changes nothing: already taken by a colleague, or closed",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {"error": {"type": "string"}},
                        }
                    }
                },
            },
        },
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return {"post": op}


_DISPATCH_PATHS: dict[str, Any] = {
    "/api/dispatches": {
        "get": {
            "operationId": "listDispatches",
            "summary": "The caller's team's open and acknowledged dispatches, oldest first",
            "responses": {
                "200": {
                    "description": "Open dispatches",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "team_id": {"type": "string"},
                                    "dispatches": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Dispatch"},
                                    },
                                },
                            }
                        }
                    },
                }
            },
        }
    },
    "/api/dispatches/{code}": {
        "get": {
            "operationId": "getDispatch",
            "summary": "One dispatch of the caller's team with its pages and event timeline",
            "parameters": [_CODE],
            "responses": {
                "200": {
                    "description": "The dispatch",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "dispatch": {"$ref": "#/components/schemas/Dispatch"},
                                    "pages": {"type": "array", "items": _PAGE},
                                    "timeline": {"type": "array", "items": _ARCHIVED},
                                },
                            }
                        }
                    },
                },
                "404": {"description": "No dispatch with that code in your team"},
            },
        }
    },
    "/api/dispatches/{code}/ack": _action(
        "acknowledgeDispatch", "Take the dispatch (like replying ACK to the page)", None
    ),
    "/api/dispatches/{code}/esc": _action(
        "escalateDispatch",
        "Pass an open dispatch on: the next escalation step is paged at once (like ESC)",
        None,
    ),
    "/api/dispatches/{code}/resolve": _action(
        "resolveDispatch",
        "Close the dispatch with an outcome (like DONE); an open one is acknowledged first",
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["outcome"],
            "properties": {"outcome": {"type": "string", "minLength": 1, "maxLength": 200}},
        },
    ),
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
        **_DISPATCH_PATHS,
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
            "Dispatch": _DISPATCH,
        },
    },
}
