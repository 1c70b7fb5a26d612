"""A CSV file's rows decided one by one through the services the commands use (enrolment and
referral, carers and consent, staff joining), all before anything is recorded. A refused
row names its number and the column at fault; every bad row is reported, none recorded."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from dispatch.clients.inputs import EnrolInput, JourneyInput, ReferralInput
from dispatch.clients.intake import CarerInput, ConsentInput, add_carer, grant_consent
from dispatch.interop.batch import MAX_PROBLEMS, Batch, ImportRefused, Planned
from dispatch.interop.csv_rows import CsvRefused, Kind, Row
from dispatch.interop.refusals import FieldRefused, deciding, validated
from dispatch.rota.staff_intake import JoinInput, join

# The services' input fields -> the file's columns, per kind.
COLUMN_OF: Mapping[Kind, Mapping[str, str]] = {
    "clients": {
        "display_name": "name",
        "phones": "phone",
        "care_coordinator_id": "coordinator",
        "preferred_gender": "gender_preference",
        "occurred_at": "enrolled_at",
        "source": "referral_source",
        "source_team": "referral_team",
        "criteria_met": "criteria",
        "team_id": "team",
        "by": "--by",
    },
    "carers": {"display_name": "name", "note": "consent_note", "by": "--by"},
    "staff": {"display_name": "name", "team_id": "team", "by": "--by"},
}
RowPlan = Callable[[Batch, Row, str | None, str], Awaitable[None]]


def _team(row: Row, team_id: str | None) -> str:
    team = row.one("team") or team_id
    if team is None:
        raise FieldRefused("team_id", "name the team (a team column or --team)")
    return team


async def _client(batch: Batch, row: Row, team_id: str | None, by: str) -> None:
    """A client on the team's caseload; with a referral source, referred and accepted first."""
    client_id, name, at = row.one("client_id") or "", row.one("name"), row.one("enrolled_at")
    team = _team(row, team_id)
    if row.one("referral_source") is not None:
        referral = validated(
            ReferralInput,
            {
                "display_name": name,
                "source": row.one("referral_source"),
                "occurred_at": at,
                "source_team": row.one("referral_team"),
                "criteria_met": row.many("criteria"),
            },
        )
        await deciding(lambda: batch.journey.receive_referral(client_id, team, referral, actor=by))
        accepted = validated(JourneyInput, {"occurred_at": at})
        await deciding(lambda: batch.journey.accept_referral(client_id, accepted, actor=by))
    enrolment = validated(
        EnrolInput,
        {
            "display_name": name,
            "phones": row.many("phone"),
            "occurred_at": at,
            "care_coordinator_id": row.one("coordinator"),
            "language": row.one("language"),
            "preferred_gender": row.one("gender_preference"),
            "cultural_needs": row.one("cultural_needs"),
        },
    )
    await deciding(lambda: batch.journey.enrol(client_id, team, enrolment, actor=by))


async def _carer(batch: Batch, row: Row, team_id: str | None, by: str) -> None:
    """A carer of a client, and the client's consent when the row names what to share."""
    client_id = row.one("client_id") or ""
    carer = validated(
        CarerInput,
        {
            "carer_id": row.one("carer_id"),
            "display_name": row.one("name"),
            "phone": row.one("phone"),
            "relationship": row.one("relationship"),
        },
    )
    registered = await deciding(
        lambda: add_carer(
            batch.carers, client_id, carer, team_id=team_id, now=batch.now, actor=f"cli:{by}"
        )
    )
    batch.pending.add([registered])
    if row.many("shares") is None and row.one("review_by") is None:
        return
    consent = validated(
        ConsentInput,
        {
            "shares": row.many("shares"),
            "note": row.one("consent_note"),
            "review_by": row.one("review_by"),
        },
    )
    granted = await deciding(
        lambda: grant_consent(
            batch.carers,
            client_id,
            carer.carer_id,
            consent,
            team_id=team_id,
            now=batch.now,
            actor=f"cli:{by}",
        )
    )
    batch.pending.add([granted])


async def _staff(batch: Batch, row: Row, team_id: str | None, by: str) -> None:
    """Someone joining the team."""
    team = _team(row, team_id)
    joiner = validated(
        JoinInput,
        {
            "staff_id": row.one("staff_id"),
            "display_name": row.one("name"),
            "role": row.one("role"),
            "phone": row.one("phone"),
            "gender": row.one("gender"),
            "languages": row.many("languages"),
            "joined_at": row.one("joined_at"),
        },
    )
    joined = await deciding(
        lambda: join(batch.roster, team, joiner, now=batch.now, actor=f"cli:{by}")
    )
    batch.pending.add(joined)


PLANS: Mapping[Kind, RowPlan] = {"clients": _client, "carers": _carer, "staff": _staff}


def column_of(kind: Kind, field: str) -> str:
    name = field.split(".", 1)[0]
    return COLUMN_OF[kind].get(name, name)


async def plan_rows(
    batch: Batch, kind: Kind, rows: list[Row], *, team_id: str | None, by: str
) -> list[Planned]:
    """Each row's events, decided in file order (a row sees the rows above it); ImportRefused
    naming every bad row (row number and column) when any is refused."""
    planned: list[Planned] = []
    problems: list[str] = []
    for row in rows:
        mark = batch.pending.mark()
        try:
            await PLANS[kind](batch, row, team_id, by)
        except FieldRefused as refused:
            batch.pending.drop_since(mark)
            problems.append(
                str(CsvRefused(row.number, column_of(kind, refused.field), refused.message))
            )
            if len(problems) >= MAX_PROBLEMS:
                break
            continue
        planned.append(Planned(f"row {row.number}", tuple(batch.pending.since(mark))))
    if problems:
        raise ImportRefused(problems)
    return planned
