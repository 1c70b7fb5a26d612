"""A FHIR R4 Bundle read with the `fhir.resources` models (its R4B package: FHIR 4.3, where
Patient, RelatedPerson, Consent, CarePlan and Encounter are as R4 has them). What cannot be
read is refused naming the resource (type/id, else its entry) and the field."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource
from pydantic import ValidationError

MAX_ENTRIES = 5000


class BundleRefused(ValueError):
    """The bundle is not imported: which resource, which field, why."""

    def __init__(self, resource: str, field: str, message: str) -> None:
        super().__init__(f"{resource} {field}: {message}")
        self.resource = resource
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Entry:
    """One resource of the bundle, typed, with its place in it."""

    index: int
    full_url: str | None
    resource: Resource

    @property
    def type(self) -> str:
        return self.resource.get_resource_type()

    @property
    def id(self) -> str:
        return self.resource.id or ""

    @property
    def version(self) -> str:
        meta = self.resource.meta
        return (meta.versionId if meta is not None else None) or ""

    @property
    def label(self) -> str:
        return f"{self.type}/{self.id}" if self.id else f"{self.type} (entry {self.index})"


def _label(raw: Any, index: int) -> str:
    if isinstance(raw, dict):
        kind, rid = raw.get("resourceType"), raw.get("id")
        if isinstance(kind, str) and isinstance(rid, str) and rid:
            return f"{kind}/{rid}"
        if isinstance(kind, str):
            return f"{kind} (entry {index})"
    return f"entry {index}"


def _path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(resource)"


def _json(data: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BundleRefused("Bundle", "(file)", f"not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise BundleRefused("Bundle", "(file)", f"not JSON: {exc.msg} at {where}") from None
    if not isinstance(obj, dict) or obj.get("resourceType") != "Bundle":
        raise BundleRefused("Bundle", "resourceType", "the file is not a FHIR Bundle")
    return obj


def _known_types(entries: list[Any]) -> None:
    """Every entry's resource names a FHIR resource type (the models fail obscurely else)."""
    for i, entry in enumerate(entries):
        raw = entry.get("resource") if isinstance(entry, dict) else None
        if raw is None:
            continue
        kind = raw.get("resourceType") if isinstance(raw, dict) else None
        if not isinstance(kind, str):
            raise BundleRefused(_label(raw, i), "resourceType", "missing")
        try:
            get_fhir_model_class(kind)
        except ValueError:
            message = f"{kind!r} is not a FHIR R4 resource type"
            raise BundleRefused(_label(raw, i), "resourceType", message) from None


def read_bundle(data: bytes) -> list[Entry]:
    """The bundle's resources in order, or BundleRefused naming the resource and field."""
    obj = _json(data)
    entries = obj.get("entry") or []
    if not isinstance(entries, list):
        raise BundleRefused("Bundle", "entry", "must be a list of entries")
    if len(entries) > MAX_ENTRIES:
        raise BundleRefused("Bundle", "entry", f"{len(entries)} entries: at most {MAX_ENTRIES}")
    _known_types(entries)
    try:
        bundle = Bundle.model_validate(obj)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = list(err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        if len(loc) >= 3 and loc[0] == "entry" and isinstance(loc[1], int):
            raw = entries[loc[1]].get("resource") if isinstance(entries[loc[1]], dict) else None
            rest = loc[3:] if loc[2] == "resource" else loc[2:]
            raise BundleRefused(_label(raw, loc[1]), _path(rest), message) from None
        raise BundleRefused("Bundle", _path(loc), message) from None
    return [
        Entry(i, e.fullUrl, e.resource)
        for i, e in enumerate(bundle.entry or [])
        if e.resource is not None
    ]
