"""The client page as a person reads it: risk with its reasons and its course, the plans and
their review dates, recent contacts, carers and the consent in force, open work. Pure: the
reads are passed in, with the instant and the team's time zone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dispatch.clients.careplans import CARE_PLAN_REVIEW_INTERVAL
from dispatch.clients.consent import CarerConsent
from dispatch.review import report_charts
from dispatch.review.facts import Archived, event_time_order
from dispatch.review.report import risk_over_time
from dispatch.review.report_svg import Chart
from dispatch.risk.levels import DEFAULT_POLICY
from projections.carer_queries import CarerRow
from projections.client_page import CarePlan, ClientPlans
from projections.console_board import ClientFacts

RISK_WINDOW = timedelta(days=90)
RECENT_CONTACTS = 10
KINDS = {"face_to_face": "face to face", "phone": "phone", "attempted": "attempted visit"}
WORK = {"outreach": "Outreach visit", "follow_up": "Post-crisis follow-up", "dispatch": "Dispatch"}
SHARES = {"crisis_status": "crisis status", "care_plan": "care plan",
          "appointments": "appointments"}  # fmt: skip


@dataclass(frozen=True)
class Review:
    """A plan's last agreement and when it is next due."""

    agreed: str
    due: str
    overdue: bool


@dataclass(frozen=True)
class ContactLine:
    at: str
    at_iso: str
    kind: str
    who: str
    where: str
    minutes: int | None
    note: str


@dataclass(frozen=True)
class CarerLine:
    name: str
    relationship: str
    phone: str
    shares: tuple[str, ...]  # empty: no consent in force, nothing may be shared
    consent_since: str
    review_by: str
    review_overdue: bool


@dataclass(frozen=True)
class WorkLine:
    kind: str
    label: str
    since: str
    due: str
    code: str | None
    overdue: bool


@dataclass(frozen=True)
class ClientPage:
    facts: ClientFacts
    score: float | None
    risk_chart: Chart
    relapse_review: Review | None
    care_plan: CarePlan | None
    care_plan_review: Review | None
    coordinator: str | None
    contacts: tuple[ContactLine, ...]
    carers: tuple[CarerLine, ...]
    work: tuple[WorkLine, ...]
    in_hospital: bool


def _time(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _review(agreed: datetime | None, every: timedelta, now: datetime, zone: ZoneInfo) -> Review:
    if agreed is None:
        return Review("", "", False)
    due = agreed + every
    return Review(f"{agreed.astimezone(zone):%Y-%m-%d}", f"{due.astimezone(zone):%Y-%m-%d}",
                  due < now)  # fmt: skip


def contact_lines(
    facts: Sequence[Archived], names: Mapping[str, str], zone: ZoneInfo
) -> tuple[ContactLine, ...]:
    """The most recent contacts first, each naming everyone who was there."""
    contacts = [f for f in event_time_order(facts) if f.type == "ContactRecorded"]
    lines = []
    for f in reversed(contacts[-RECENT_CONTACTS:]):
        p = f.payload
        staff = [str(p["staff_id"]), *map(str, p.get("other_staff_ids") or ())]
        lines.append(ContactLine(
            at=_time(f.occurred_at, zone), at_iso=f.occurred_at.isoformat(),
            kind=KINDS.get(str(p["kind"]), str(p["kind"])),
            who=", ".join(names.get(s, s) for s in staff),
            where=str(p.get("where") or "").replace("_", " "),
            minutes=p.get("minutes"), note=str(p.get("note") or ""),
        ))  # fmt: skip
    return tuple(lines)


def carer_lines(
    carers: Sequence[tuple[CarerRow, CarerConsent | None]], today: date
) -> tuple[CarerLine, ...]:
    out = []
    for row, consent in carers:
        shares = () if consent is None else tuple(
            SHARES.get(s, s) for s in sorted(consent.shares, key=list(SHARES).index)
        )  # fmt: skip
        out.append(CarerLine(
            name=row.display_name, relationship=row.relationship, phone=row.phone, shares=shares,
            consent_since=f"{consent.granted_at:%Y-%m-%d}" if consent else "",
            review_by=str(consent.review_by or "") if consent else "",
            review_overdue=consent.review_overdue(today) if consent else False,
        ))  # fmt: skip
    return tuple(out)


def work_lines(plans: ClientPlans, now: datetime, zone: ZoneInfo) -> tuple[WorkLine, ...]:
    out = []
    for t in plans.open_work:
        if t.kind == "outreach":
            due = f"{t.due:%Y-%m-%d}" if t.due else ""  # a UTC day
        else:
            due = _time(t.due, zone) if t.due else ""
        overdue = t.due is not None and (
            t.due.date() < now.date() if t.kind == "outreach" else t.due < now
        )
        label = t.label.replace("_", " ")
        out.append(WorkLine(kind=WORK.get(t.kind, t.kind), label=label,
                            since=_time(t.since, zone) if t.since else "", due=due, code=t.code,
                            overdue=overdue))  # fmt: skip
    return tuple(out)


def client_page(
    facts: ClientFacts,
    *,
    score: float | None,
    history: Sequence[Archived],
    plans: ClientPlans,
    carers: Sequence[tuple[CarerRow, CarerConsent | None]],
    names: Mapping[str, str],
    now: datetime,
    zone: ZoneInfo,
) -> ClientPage:
    """The page of one client from its reads; `history` holds the client's archived risk
    changes and contacts (up to `now`)."""
    start = now - RISK_WINDOW
    [risk] = risk_over_time(history, [facts.client_id], start, now)
    chart = replace(
        report_charts.risk_over_time(risk, start, now),
        chart_id="risk-chart",
        title="Risk over the last 90 days",
        description="The risk score over the last 90 days, one step per change of level; "
        "dashed lines where each level begins.",
    )
    care = plans.care_plan
    coordinator = None
    if care is not None:
        coordinator = care.coordinator_name or care.care_coordinator_id
    return ClientPage(
        facts=facts,
        score=score,
        risk_chart=chart,
        relapse_review=_review(plans.relapse_plan_reviewed_at,
                               DEFAULT_POLICY.plan_review_interval, now, zone)
        if plans.relapse_plan_reviewed_at else None,
        care_plan=care,
        care_plan_review=_review(care.reviewed_at, CARE_PLAN_REVIEW_INTERVAL, now, zone)
        if care else None,
        coordinator=coordinator,
        contacts=contact_lines(history, names, zone),
        carers=carer_lines(carers, now.astimezone(zone).date()),
        work=work_lines(plans, now, zone),
        in_hospital=plans.in_hospital,
    )  # fmt: skip
