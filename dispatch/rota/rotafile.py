"""The rota file (YAML): a team, its staff, covered hours, rotations, overrides, swaps
and, optionally, the team's escalation policy (published as EscalationPolicySet).

parse() validates a whole file before anything happens; a bad file raises RotaFileError
naming the field (`rotations[0].participants`). to_events() turns a valid file into the
events that `dispatch rota load` publishes; export() turns a team's folded rota back
into the same shape. Loading adds or replaces the entries the file names; it never
removes entries the file leaves out (cancel an override with `rota override --cancel`).

Times of day are read as written: YAML 1.1 (PyYAML) would read an unquoted `18:00` as the
sexagesimal number 1080, so this loader keeps such scalars as text, and a number where a
time of day belongs is refused rather than taken as seconds.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from dispatch.escalation.events import EscalationPolicySet
from dispatch.escalation.policy import EscalationPolicy
from dispatch.events import Envelope, EventPayload, new_event
from dispatch.events.envelope import derived_id
from dispatch.rota.checks import MAX_OVERRIDE, double_booked
from dispatch.rota.events import (
    CoverageSet,
    Layer,
    OverrideScheduled,
    Period,
    Role,
    RotationDefined,
    ShiftsSwapped,
    StaffRegistered,
    TeamFormed,
)
from dispatch.rota.state import TeamRota, fold
from dispatch.vocabulary import E164_PATTERN, Gender, ServiceModel

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_HOURS = {"ACT": "24/7", "ICM": "08:00-20:00", "AOT": "08:00-20:00"}


CHECKED_WEEKS = 8  # how far past its start a file's rotations are checked for clashes
_SEXAGESIMAL = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")


class RotaFileError(ValueError):
    """A rota file that cannot be loaded; the message names the bad field."""


class _RotaYamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that `18:00` (a YAML 1.1 base-60 number) stays text."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0] and _SEXAGESIMAL.fullmatch(value):
            return "tag:yaml.org,2002:str"
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]


def load_yaml(text: str) -> Any:
    """YAML as data, with times of day such as `handoff: 18:00` kept as the text 18:00."""
    return yaml.load(text, Loader=_RotaYamlLoader)  # noqa: S506 - a SafeLoader subclass


def _time_of_day(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("write a time of day as HH:MM (quoted or not), not a number")
    return value


TimeOfDay = Annotated[time, BeforeValidator(_time_of_day)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TeamSpec(_Strict):
    id: str = Field(min_length=1)
    name: str
    service_model: ServiceModel
    time_zone: str
    fallback_number: str = Field(pattern=E164_PATTERN)
    crisis_line_number: str | None = Field(default=None, pattern=E164_PATTERN)


class CoverageSpec(_Strict):
    hours: str | None = None  # "24/7" or "HH:MM-HH:MM"; default from the service model
    fallback_team: str | None = None
    fallback_number: str | None = Field(default=None, pattern=E164_PATTERN)


class StaffSpec(_Strict):
    id: str = Field(min_length=1)
    name: str
    role: Role
    gender: Gender = "unspecified"
    phone: str = Field(pattern=E164_PATTERN)
    languages: tuple[str, ...] = ("en",)


class RotationSpec(_Strict):
    id: str = Field(min_length=1)
    layer: Layer
    period: Period
    handoff: TimeOfDay
    weekday: Literal[WEEKDAYS] = "monday"  # type: ignore[valid-type]
    participants: tuple[str, ...] = Field(min_length=1)
    starts: AwareDatetime
    ends: AwareDatetime | None = None


class OverrideSpec(_Strict):
    id: str = Field(min_length=1)
    layer: Layer
    staff: str
    starts: AwareDatetime
    ends: AwareDatetime


class SwapSpec(_Strict):
    id: str = Field(min_length=1)
    layer: Layer = "primary"
    staff_a: str
    staff_b: str
    starts: AwareDatetime
    ends: AwareDatetime


class RotaFile(_Strict):
    team: TeamSpec
    coverage: CoverageSpec = CoverageSpec()
    staff: tuple[StaffSpec, ...] = ()
    rotations: tuple[RotationSpec, ...] = ()
    overrides: tuple[OverrideSpec, ...] = ()
    swaps: tuple[SwapSpec, ...] = ()
    escalation_policy: EscalationPolicy | None = None  # steps, rounds, exhausted_repeat_s


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "file"


def parse(text: str) -> RotaFile:
    """A validated rota file, or RotaFileError naming the first bad field."""
    try:
        raw = load_yaml(text)
    except yaml.YAMLError as exc:
        raise RotaFileError(f"not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise RotaFileError("file: expected a mapping with team, staff, rotations, ...")
    try:
        spec = RotaFile.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise RotaFileError(f"{_where(err['loc'])}: {msg}") from None
    try:
        ZoneInfo(spec.team.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = spec.team.time_zone
        raise RotaFileError(f"team.time_zone: unknown IANA time zone {zone!r}") from None
    known = {s.id for s in spec.staff}
    for i, r in enumerate(spec.rotations):
        for who in r.participants:
            if who not in known:
                raise RotaFileError(f"rotations[{i}].participants: unknown staff {who!r}")
    for i, o in enumerate(spec.overrides):
        if o.staff not in known:
            raise RotaFileError(f"overrides[{i}].staff: unknown staff {o.staff!r}")
    for i, w in enumerate(spec.swaps):
        for name, who in (("staff_a", w.staff_a), ("staff_b", w.staff_b)):
            if who not in known:
                raise RotaFileError(f"swaps[{i}].{name}: unknown staff {who!r}")
    try:
        payloads(spec)  # the events' own rules (spans ordered, one fallback, ...)
    except _PayloadError as exc:
        raise RotaFileError(str(exc)) from None
    _check_spans_and_clashes(spec)
    return spec


def _check_spans_and_clashes(spec: RotaFile) -> None:
    """Overrides and swaps last at most MAX_OVERRIDE; nobody is primary and backup at once
    (within each override and swap, and the first weeks of the rotations)."""
    spans: list[tuple[str, datetime, datetime]] = [
        *((f"overrides[{i}]", o.starts, o.ends) for i, o in enumerate(spec.overrides)),
        *((f"swaps[{i}]", w.starts, w.ends) for i, w in enumerate(spec.swaps)),
    ]
    for where, starts, ends in spans:
        if ends - starts > MAX_OVERRIDE:
            raise RotaFileError(f"{where}.ends: lasts at most {MAX_OVERRIDE.days} days")
    rota = fold(to_events(spec, now=datetime(1970, 1, 1, tzinfo=UTC), actor="check"))
    team = rota.team(spec.team.id)
    if spec.rotations:
        first = min(r.starts for r in spec.rotations)
        spans.append(("rotations", first, first + timedelta(weeks=CHECKED_WEEKS)))
    for where, starts, ends in spans:
        clash = double_booked(team, starts, ends)
        if clash is not None:
            raise RotaFileError(f"{where}: {clash.message()}")


class _PayloadError(Exception):
    pass


def _build(where: str, cls: type[EventPayload], **fields: Any) -> EventPayload:
    try:
        return cls(**fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise _PayloadError(f"{where}{'.' + field if field else ''}: {msg}") from None


def _coverage(spec: RotaFile) -> EventPayload:
    c, t = spec.coverage, spec.team
    hours = c.hours or DEFAULT_HOURS[t.service_model]
    # No fallback named: the team's own fallback number (never nobody).
    number = c.fallback_number if c.fallback_team else (c.fallback_number or t.fallback_number)
    fields: dict[str, Any] = {
        "team_id": t.id,
        "fallback_team_id": c.fallback_team,
        "fallback_number": number,
    }
    if hours == "24/7":
        fields["all_day"] = True
    else:
        opens, sep, closes = hours.partition("-")
        try:
            fields.update(all_day=False, opens=time.fromisoformat(opens),
                          closes=time.fromisoformat(closes))  # fmt: skip
        except ValueError:
            sep = ""
        if not sep:
            raise _PayloadError("coverage.hours: expected '24/7' or 'HH:MM-HH:MM'")
    return _build("coverage", CoverageSet, **fields)


def payloads(spec: RotaFile) -> list[EventPayload]:
    """The file's facts as event payloads, in the order they are published."""
    t = spec.team
    out: list[EventPayload] = [
        _build("team", TeamFormed, team_id=t.id, name=t.name, service_model=t.service_model,
               time_zone=t.time_zone, fallback_number=t.fallback_number,
               crisis_line_number=t.crisis_line_number),
        _coverage(spec),
    ]  # fmt: skip
    for i, s in enumerate(spec.staff):
        out.append(
            _build(f"staff[{i}]", StaffRegistered, staff_id=s.id, team_id=t.id,
                   display_name=s.name, role=s.role, gender=s.gender, phone=s.phone,
                   languages=s.languages)
        )  # fmt: skip
    for i, r in enumerate(spec.rotations):
        out.append(
            _build(f"rotations[{i}]", RotationDefined, team_id=t.id, rotation_id=r.id,
                   layer=r.layer, period=r.period, handoff_time=r.handoff,
                   handoff_weekday=WEEKDAYS.index(r.weekday), participants=r.participants,
                   starts_at=r.starts, ends_at=r.ends)
        )  # fmt: skip
    for i, o in enumerate(spec.overrides):
        out.append(
            _build(f"overrides[{i}]", OverrideScheduled, team_id=t.id, override_id=o.id,
                   layer=o.layer, staff_id=o.staff, starts_at=o.starts, ends_at=o.ends)
        )  # fmt: skip
    for i, w in enumerate(spec.swaps):
        out.append(
            _build(f"swaps[{i}]", ShiftsSwapped, team_id=t.id, swap_id=w.id, layer=w.layer,
                   staff_a=w.staff_a, staff_b=w.staff_b, starts_at=w.starts, ends_at=w.ends)
        )  # fmt: skip
    if spec.escalation_policy is not None:
        out.append(EscalationPolicySet(team_id=t.id, policy=spec.escalation_policy))
    return out


def to_events(spec: RotaFile, *, now: datetime, actor: str) -> list[Envelope]:
    """The events of one load at `now`; ids derive from the load, so a retry repeats them."""
    return [
        new_event(
            p,
            key=spec.team.id,
            occurred_at=now,
            recorded_at=now,
            actor=actor,
            event_id=derived_id("rota-load", spec.team.id, now.isoformat(), i, p.event_type),
        )
        for i, p in enumerate(payloads(spec))
    ]


def export(
    rota: TeamRota, policy: EscalationPolicy | None = None, *, at: datetime | None = None
) -> dict[str, Any]:
    """The team's current rota (and its escalation policy, if it has its own) as a rota
    file: a mapping ready for yaml.safe_dump that `parse` reads back to the same facts.
    Staff who have left by `at` are not listed (a rotation still naming them is a gap)."""
    team = rota.team.value if rota.team else None
    if team is None:
        raise RotaFileError(f"team {rota.team_id!r} is not known")
    out: dict[str, Any] = {
        "team": {
            "id": team.team_id, "name": team.name, "service_model": team.service_model,
            "time_zone": team.time_zone, "fallback_number": team.fallback_number,
        },
    }  # fmt: skip
    if team.crisis_line_number:
        out["team"]["crisis_line_number"] = team.crisis_line_number
    c = rota.coverage.value if rota.coverage else None
    if c is not None:
        hours = "24/7" if c.all_day else f"{c.opens:%H:%M}-{c.closes:%H:%M}"
        cov: dict[str, Any] = {"hours": hours}
        if c.fallback_team_id:
            cov["fallback_team"] = c.fallback_team_id
        if c.fallback_number:
            cov["fallback_number"] = c.fallback_number
        out["coverage"] = cov
    out["staff"] = [
        {"id": s.staff_id, "name": s.display_name, "role": s.role, "gender": s.gender,
         "phone": s.phone, "languages": list(s.languages)}
        for s in rota.members()
        if at is None or not rota.has_left(s.staff_id, at)
    ]  # fmt: skip
    out["rotations"] = [
        {"id": r.rotation_id, "layer": r.layer, "period": r.period,
         "handoff": f"{r.handoff_time:%H:%M}", "weekday": WEEKDAYS[r.handoff_weekday],
         "participants": list(r.participants), "starts": r.starts_at.isoformat(),
         "ends": r.ends_at.isoformat() if r.ends_at else None}
        for _, r in rota.live(rota.rotations)
    ]  # fmt: skip
    out["overrides"] = [
        {"id": o.override_id, "layer": o.layer, "staff": o.staff_id,
         "starts": o.starts_at.isoformat(), "ends": o.ends_at.isoformat()}
        for _, o in rota.live(rota.overrides)
    ]  # fmt: skip
    out["swaps"] = [
        {"id": w.swap_id, "layer": w.layer, "staff_a": w.staff_a, "staff_b": w.staff_b,
         "starts": w.starts_at.isoformat(), "ends": w.ends_at.isoformat()}
        for _, w in rota.live(rota.swaps)
    ]  # fmt: skip
    if policy is not None:
        out["escalation_policy"] = policy.model_dump(mode="json")
    return out


def dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
