"""The review's results as text to read and as flat rows for CSV (JSON is the models' own)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from dispatch.review.asof import AsOf
from dispatch.review.client import ClientHistory
from dispatch.review.fidelity import Fidelity
from dispatch.review.incident import Incident, IncidentSummary
from dispatch.review.stats import Spread
from dispatch.review.team import TeamFigures

Row = dict[str, Any]


def duration(s: float | None) -> str:
    if s is None:
        return "-"
    if abs(s) < 60:
        return f"{s:.1f} s"
    minutes, rest = divmod(round(s), 60)
    return f"{minutes} min {rest:02d} s" if minutes < 60 else f"{minutes / 60:.1f} h"


def when(at: datetime | None) -> str:
    return "-" if at is None else at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


def share(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def incident_text(i: Incident) -> str:
    lines = [
        f"Incident {i.short_code} ({i.reason}, {i.caller_kind} {i.client_id or ''}, team "
        f"{i.team_id}): {i.status}" + (f": {i.outcome}" if i.outcome else ""),
        f"started {when(i.started_at)}; acknowledged by {i.acknowledged_by or '-'}; resolved by "
        f"{i.resolved_by or '-'}",
        "Figures:",
        *(f"  {f.label:<48} {duration(f.seconds) if f.at else f.note:>16}  {when(f.at)}"
          for f in i.figures),
        f"Steps used: {i.steps_used}   Pages per channel: "
        + (", ".join(f"{c} {n}" for c, n in sorted(i.pages_per_channel.items())) or "none"),
        "Paged:",
        *(f"  step {p.step} attempt {p.attempt} {p.channel:<5} {p.staff_id:<18} {p.outcome}"
          f" (requested {when(p.requested_at)})" for p in i.pages),
        "Escalations:" + ("" if i.escalations else " none"),
        *(f"  {when(e.at)} {e.reason}: round {e.round} step {e.step}"
          f"{' (everyone)' if e.exhausted else ''}, paged {', '.join(e.staff_ids) or 'nobody'}"
          for e in i.escalations),
        "Replies:" + ("" if i.replies else " none"),
        *(f"  {when(r.at)} {r.staff_id} {r.verb.upper()} by {r.channel}: {r.decision}"
          for r in i.replies),
        "Caller messages:" + ("" if i.caller_messages else " none"),
        *(f"  {when(m.at)} {m.duration_s} s" for m in i.caller_messages),
        "Failures:" + ("" if i.failures else " none"),
        *(f"  {f}" for f in i.failures),
        "Timeline (occurred, recorded, type, actor, what):",
        *(f"  {when(e.occurred_at)}  {when(e.recorded_at)}  {e.type:<28} {e.actor:<18} "
          f"{e.summary}" for e in i.timeline),
    ]  # fmt: skip
    return "\n".join(lines)


def incidents_text(team_id: str, rows: Sequence[IncidentSummary]) -> str:
    lines = [f"{len(rows)} incidents of {team_id}"]
    lines += [
        f"  {s.short_code} {when(s.started_at)} {s.reason:<11} {s.status:<12} engage "
        f"{duration(s.to_acknowledgement_s):>12}  resolve {duration(s.to_resolution_s):>12}  "
        f"escalations {s.escalations}  pages {s.pages}  {s.outcome or ''}"
        for s in rows
    ]
    return "\n".join(lines)


def client_text(h: ClientHistory) -> str:
    counts = ", ".join(f"{k} {n}" for k, n in h.counts.items()) or "nothing"
    lines = [f"Client {h.client_id} from {when(h.start)} to {when(h.end)}: {counts}"]
    if h.unknown_types:
        lines.append(f"event types this version does not know: {', '.join(h.unknown_types)}")
    lines += [f"  {when(e.occurred_at)}  {e.category:<20} {e.type:<26} {e.summary}"
              for e in h.entries]  # fmt: skip
    return "\n".join(lines)


def as_of_text(a: AsOf) -> str:
    lines = [f"As of {when(a.at)} ({a.events_applied} events recorded by then applied)"]
    lines += ["On call:"] + [
        f"  {c.team_id} {c.layer:<8} {c.staff_id or '-':<18} ({c.source})"
        + ("" if c.covered else f" fallback {c.fallback_team_id or c.fallback_number}")
        for c in a.on_call
    ]
    lines += ["Open dispatches:" + ("" if a.open_dispatches else " none")] + [
        f"  {d.short_code} {d.status:<12} {d.reason:<11} step {d.step} round {d.round} "
        f"(sequence {d.sequence}{', everyone' if d.exhausted else ''}) deadline "
        f"{when(d.deadline_at)} paged {', '.join(d.paged) or 'nobody'}"
        for d in a.open_dispatches
    ]
    lines += ["Clients:" + ("" if a.clients else " none")]
    for c in a.clients:
        lines.append(f"  {c.client_id:<10} {c.level:<9} score {c.score:5.1f}  plan version "
                     f"{c.plan_version}{'  IN HOSPITAL' if c.in_hospital else ''}")  # fmt: skip
        lines += [f"      why: {r}" for r in c.reasons]
        lines += [f"      consent: {x}" for x in c.consent]
    lines += ["Late-arriving (happened by then, recorded after; not applied):"
              + ("" if a.late_arriving else " none")]  # fmt: skip
    lines += [f"  {e.type} {e.key} happened {when(e.occurred_at)} recorded {when(e.recorded_at)}"
              for e in a.late_arriving]  # fmt: skip
    if a.unknown_types:
        lines.append(f"not applied, unknown to this version: {', '.join(a.unknown_types)}")
    return "\n".join(lines)


def _spread(name: str, s: Spread) -> str:
    return (f"  {name:<22} p50 {duration(s.p50_s):>12}  p90 {duration(s.p90_s):>12}  max "
            f"{duration(s.max_s):>12}  (n={s.count}, {s.method} percentiles)")  # fmt: skip


def team_text(t: TeamFigures) -> str:
    ratio = t.escalations_per_incident
    per_incident = "-" if ratio is None else f"{ratio:.2f}"
    lines = [
        f"Team {t.team_id} from {when(t.start)} to {when(t.end)} ({t.time_zone})",
        f"  incidents {t.incidents}, acknowledged {t.acknowledged}",
        _spread("time to engage", t.time_to_engage),
        _spread("MTTA", t.mtta),
        f"  acknowledged within 5 min {share(t.acknowledged_within_5_min)}, within 15 min "
        f"{share(t.acknowledged_within_15_min)}; escalations per incident {per_incident}",
        f"  caseload {t.clients} clients / {t.staff} staff = {t.clients_per_staff or '-'} "
        "per staff member",
        "Pages per person (night 22:00-07:00, weekend Sat-Sun, team time):",
        *(f"  {p.staff_id:<18} {p.pages:>4}  night {p.night_pages:>3}  weekend "
          f"{p.weekend_pages:>3}" for p in t.pages_per_person),
        "Rota over the window:",
        *(f"  {r.layer:<8} uncovered {r.uncovered_minutes:.0f} min, out of hours "
          f"{r.out_of_hours_minutes:.0f} min" for r in t.rota),
    ]  # fmt: skip
    return "\n".join(lines)


def fidelity_text(f: Fidelity) -> str:
    lines = [f"Fidelity of {f.team_id} from {when(f.start)} to {when(f.end)}",
             f"anchors: {f.source}"]  # fmt: skip
    for item in f.items:
        figure = "not recorded" if item.figure is None else f"{item.figure:g} {item.unit}"
        lines.append(f"  {item.code} {item.name:<36} {item.rating or '-'}  {figure}")
        lines.append(f"      anchor: {item.anchor}; {item.note}")
    return "\n".join(lines)


def _flat(model: BaseModel, **extra: Any) -> Row:
    row: Row = {**extra}
    for k, v in model.model_dump(mode="json").items():
        if isinstance(v, list):
            v = "; ".join(map(str, v))
        row[k] = json.dumps(v, sort_keys=True) if isinstance(v, dict) else v
    return row


def table(result: Any) -> list[Row]:
    """Rows for CSV: one per timeline event, incident, entry, item or section line."""
    if isinstance(result, Incident):
        return [_flat(f, section="figure") for f in result.figures] + [
            _flat(e, section="event") for e in result.timeline
        ]
    if isinstance(result, ClientHistory):
        return [_flat(e) for e in result.entries]
    if isinstance(result, Fidelity):
        return [_flat(i) for i in result.items]
    if isinstance(result, AsOf):
        return [
            *(_flat(c, section="on_call") for c in result.on_call),
            *(_flat(d, section="dispatch") for d in result.open_dispatches),
            *(_flat(c, section="client") for c in result.clients),
            *(_flat(e, section="late_arriving") for e in result.late_arriving),
        ]
    if isinstance(result, TeamFigures):
        head = result.model_dump(mode="json", exclude={"pages_per_person", "rota"})
        flat = {k: v for k, v in head.items() if not isinstance(v, dict)}
        spreads = {f"{k}_{n}": x for k, v in head.items() if isinstance(v, dict)
                   for n, x in v.items()}  # fmt: skip
        return [
            {"section": "team", **flat, **spreads},
            *(_flat(p, section="pages") for p in result.pages_per_person),
            *(_flat(r, section="rota") for r in result.rota),
        ]
    return [_flat(r) for r in result]
