"""The human docs page: the OpenAPI document rendered as HTML on the server, from a
template and stylesheet shipped in dispatch/web/assets (no script, nothing from a CDN)."""

from __future__ import annotations

import json
import re
from html import escape
from importlib import resources
from string import Template
from typing import Any

CONSTRAINTS = {
    "minLength": "at least {} characters",
    "maxLength": "at most {} characters",
    "minimum": "at least {}",
    "maximum": "at most {}",
    "minItems": "at least {} items",
    "pattern": "matches {}",
}


def _prose(text: str) -> str:
    """Escaped text whose `backquoted` parts are shown as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text))


def _asset(name: str) -> str:
    return resources.files("dispatch.web").joinpath("assets", name).read_text("utf-8")


def _link(ref: str) -> str:
    name = escape(ref.rsplit("/", 1)[1])
    return f'<a href="#schema-{name}">{name}</a>'


def type_text(schema: dict[str, Any]) -> str:
    """A schema as a short phrase: `string`, `array of Page`, `"ack" | "esc"`, `X or null`."""
    if "$ref" in schema:
        return _link(schema["$ref"])
    if "anyOf" in schema:
        return " or ".join(type_text(s) for s in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(escape(json.dumps(v)) for v in schema["enum"])
    if "const" in schema:
        return escape(json.dumps(schema["const"]))
    kind = schema.get("type")
    if kind == "array":
        return f"array of {type_text(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        keys = type_text(schema.get("propertyNames", {"type": "string"}))
        return f"map of {keys} to {type_text(schema['additionalProperties'])}"
    if "format" in schema:
        return f"{escape(str(kind))} ({escape(schema['format'])})"
    return escape(str(kind)) if kind else "any"


def _notes(schema: dict[str, Any]) -> str:
    parts = [_prose(schema.get("description", ""))]
    parts += [escape(text.format(schema[key])) for key, text in CONSTRAINTS.items()
              if key in schema]  # fmt: skip
    if schema.get("default") is not None:
        parts.append(f"default {escape(json.dumps(schema['default']))}")
    return "; ".join(p for p in parts if p)


def _fields_table(schema: dict[str, Any]) -> str:
    required = set(schema.get("required", ()))
    rows = [
        f"<tr><td><code>{escape(name)}</code></td><td>{type_text(prop)}</td>"
        f"<td>{'yes' if name in required else ''}</td><td>{_notes(prop)}</td></tr>"
        for name, prop in schema.get("properties", {}).items()
    ]
    if not rows:
        return f"<p>{type_text(schema)}</p>"
    head = "<tr><th>field</th><th>type</th><th>required</th><th>notes</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def _parameters(params: list[dict[str, Any]]) -> str:
    if not params:
        return ""
    rows = [
        f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(p['in'])}</td>"
        f"<td>{type_text(p['schema'])}</td><td>{'yes' if p.get('required') else ''}</td>"
        f"<td>{_notes({**p['schema'], 'description': p.get('description', '')})}</td></tr>"
        for p in params
    ]
    head = "<tr><th>parameter</th><th>in</th><th>type</th><th>required</th><th>notes</th></tr>"
    return f"<h4>Parameters</h4><table>{head}{''.join(rows)}</table>"


def _content_type(content: dict[str, Any]) -> str:
    return ", ".join(f"{type_text(v['schema'])} <small>({escape(k)})</small>"
                     for k, v in content.items())  # fmt: skip


def _operation(path: str, method: str, op: dict[str, Any]) -> str:
    body = op.get("requestBody")
    request = ""
    if body is not None:
        need = "required" if body.get("required") else "optional"
        request = f"<h4>Body ({need})</h4><p>{_content_type(body['content'])}</p>"
    responses = "".join(
        f"<tr><td class=status>{escape(status)}</td><td>{_prose(r['description'])}</td>"
        f"<td>{_content_type(r.get('content', {}))}</td></tr>"
        for status, r in op["responses"].items()
    )
    auth = '<span class="auth">bearer token</span>' if op.get("security") else ""
    return (
        f'<section class="op" id="{escape(op["operationId"])}">'
        f'<h3><span class="method {method}">{method.upper()}</span>'
        f"<code>{escape(path)}</code>{auth}</h3>"
        f"<p>{_prose(op['summary'])}</p>"
        f'<p class="desc">{_prose(op.get("description", ""))}</p>'
        f"{_parameters(op.get('parameters', []))}{request}"
        f"<h4>Responses</h4><table>{responses}</table></section>"
    )


def render_docs(document: dict[str, Any]) -> str:
    """The whole page for one OpenAPI document: operations by tag, then every schema."""
    by_tag: dict[str, list[str]] = {}
    nav: dict[str, list[str]] = {}
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            tag = op["tags"][0]
            by_tag.setdefault(tag, []).append(_operation(path, method, op))
            nav.setdefault(tag, []).append(
                f'<li><a href="#{escape(op["operationId"])}">{method.upper()} '
                f"{escape(path)}</a></li>"
            )
    schemas = "".join(
        f'<section class="schema" id="schema-{escape(name)}"><h3>{escape(name)}</h3>'
        f'<p class="desc">{_prose(schema.get("description", ""))}</p>'
        f"{_fields_table(schema)}</section>"
        for name, schema in sorted(document["components"]["schemas"].items())
    )
    info = document["info"]
    return Template(_asset("docs.html")).substitute(
        title=escape(info["title"]),
        version=escape(info["version"]),
        about=_prose(info.get("description", "")),
        css=_asset("docs.css"),
        nav="".join(f"<h4>{escape(t)}</h4><ul>{''.join(items)}</ul>" for t, items in nav.items())
        + '<p><a href="#schemas">Schemas</a></p>',
        operations="".join(f"<h2>{escape(t)}</h2>{''.join(ops)}" for t, ops in by_tag.items()),
        schemas=schemas,
    )
