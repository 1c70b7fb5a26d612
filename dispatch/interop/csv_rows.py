"""CSV files a small team imports: one kind per file (clients, carers, staff), UTF-8, a
header row naming documented columns. Reading is pure: bytes in, rows out, or a refusal
naming the row (the header is row 1) and the column."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Kind = Literal["clients", "carers", "staff"]
KINDS: tuple[Kind, ...] = ("clients", "carers", "staff")
MAX_ROWS = 2000  # a small team's caseload, carers or staff; more is a mistake
LIST_SEPARATOR = ";"  # several values in one cell: "+15550100001;+15550100002"


@dataclass(frozen=True)
class Column:
    name: str
    meaning: str
    required: bool = False
    many: bool = False  # several values, separated by LIST_SEPARATOR


COLUMNS: Mapping[Kind, tuple[Column, ...]] = {
    "clients": (
        Column("client_id", "the client's id", required=True),
        Column("name", "the client's name", required=True),
        Column("phone", "their numbers, E.164 (a crisis call from any is theirs)", many=True),
        Column("team", "the team (else --team)"),
        Column("coordinator", "the care coordinator's staff id (ICM and AOT: required)"),
        Column("gender_preference", "female, male, nonbinary or unspecified"),
        Column("language", "preferred language, e.g. en, es"),
        Column("cultural_needs", "cultural or religious needs, a note"),
        Column("enrolled_at", "when they joined the caseload, ISO 8601 with offset (now)"),
        Column("referral_source", "cmht, mental_health_team, gp, self, family, other"),
        Column("referral_team", "the referring team's name (cmht, mental_health_team)"),
        Column("criteria", "criteria met, e.g. severe_mental_illness", many=True),
    ),
    "carers": (
        Column("client_id", "the client cared for", required=True),
        Column("carer_id", "the carer's id", required=True),
        Column("name", "the carer's name", required=True),
        Column("phone", "the number they call from, E.164", required=True),
        Column("relationship", "e.g. parent, partner, friend", required=True),
        Column("shares", "what the client consents to share", many=True),
        Column("review_by", "consent review date, YYYY-MM-DD (with shares)"),
        Column("consent_note", "how and when the client agreed"),
    ),
    "staff": (
        Column("staff_id", "the staff member's id", required=True),
        Column("name", "name shown to colleagues", required=True),
        Column("role", "nurse, social_worker, ..., team_lead, manager", required=True),
        Column("phone", "work phone, E.164", required=True),
        Column("team", "the team (else --team)"),
        Column("gender", "female, male, nonbinary or unspecified"),
        Column("languages", "languages spoken, e.g. en;es", many=True),
        Column("joined_at", "from when, ISO 8601 with offset (now)"),
    ),
}

Value = str | tuple[str, ...]


class CsvRefused(ValueError):
    """A file that cannot be imported: where (row, column) and why."""

    def __init__(self, row: int | None, column: str | None, message: str) -> None:
        where = ", ".join(x for x in (f"row {row}" if row else "", f"column {column}"
                                      if column else "") if x)  # fmt: skip
        super().__init__(f"{where}: {message}" if where else message)
        self.row = row
        self.column = column
        self.message = message


@dataclass(frozen=True)
class Row:
    """One data row: its number in the file (the header is row 1) and its non-empty cells."""

    number: int
    values: Mapping[str, Value]

    def one(self, column: str) -> str | None:
        value = self.values.get(column)
        return value if isinstance(value, str) else None

    def many(self, column: str) -> tuple[str, ...] | None:
        value = self.values.get(column)
        return value if isinstance(value, tuple) else None


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1
        message = f"not UTF-8 (byte {exc.start}); save the file as UTF-8"
        raise CsvRefused(row, None, message) from None


def _header(cells: list[str], kind: Kind) -> list[str]:
    known = {c.name for c in COLUMNS[kind]}
    names = [c.strip() for c in cells]
    for name in names:
        if name not in known:
            raise CsvRefused(1, name or "(empty)", f"not a {kind} column; the columns are "
                             f"{', '.join(c.name for c in COLUMNS[kind])}")  # fmt: skip
        if names.count(name) > 1:
            raise CsvRefused(1, name, "named twice")
    for column in COLUMNS[kind]:
        if column.required and column.name not in names:
            raise CsvRefused(1, column.name, "missing: this column is required")
    return names


def _cell(column: Column, raw: str) -> Value | None:
    text = raw.strip()
    if not column.many:
        return text or None
    parts = tuple(p.strip() for p in text.split(LIST_SEPARATOR) if p.strip())
    return parts or None


def read_rows(data: bytes, kind: Kind) -> list[Row]:
    """The file's data rows (blank lines skipped), or CsvRefused naming the row and column."""
    lines = list(csv.reader(io.StringIO(_text(data), newline="")))
    if not lines or not any(c.strip() for c in lines[0]):
        raise CsvRefused(1, None, "no header row: the first row names the columns")
    names = _header(lines[0], kind)
    spec = {c.name: c for c in COLUMNS[kind]}
    rows: list[Row] = []
    for number, cells in enumerate(lines[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(names):
            raise CsvRefused(number, None, f"{len(cells)} cells for {len(names)} columns")
        values = {n: v for n, raw in zip(names, cells, strict=False)
                  if (v := _cell(spec[n], raw)) is not None}  # fmt: skip
        for column in COLUMNS[kind]:
            if column.required and column.name not in values:
                raise CsvRefused(number, column.name, "empty: this column is required")
        rows.append(Row(number, values))
    if not rows:
        raise CsvRefused(None, None, "no data rows under the header")
    if len(rows) > MAX_ROWS:
        raise CsvRefused(None, None, f"{len(rows)} rows: import at most {MAX_ROWS} at once")
    return rows
