"""`dispatch import csv|fhir` and `dispatch export fhir`: a team's facts in from a file and
out again. Every row or resource is decided by the services the commands use before
anything is recorded; any refusal names where (row and column, resource and field), exits
2 and records nothing. What is recorded is spooled, relayed to Kafka and waited for."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from dispatch.commands.changes import APPLY_WAIT_S, BY_HELP
from dispatch.interop.batch import ImportRefused, Planned
from dispatch.interop.csv_rows import KINDS, CsvRefused, Kind, read_rows
from dispatch.settings import Settings

if TYPE_CHECKING:
    from dispatch.bootstrap import Services
    from dispatch.interop.batch import Batch

T = TypeVar("T")
WHERE = """
Changes are spooled in PostgreSQL (DATABASE_URL) and relayed to Kafka
(KAFKA_BOOTSTRAP_SERVERS) at once; `dispatch up` prints both. README "Import and export"
lists the columns; docs/fhir.md the FHIR mapping."""
FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
DRY_RUN = click.option(
    "--dry-run", is_flag=True, help="List what would be recorded; record nothing."
)
BY = click.option("--by", "by", required=True, help=BY_HELP)


@dataclass(frozen=True)
class Outcome:
    planned: list[Planned]
    recorded: bool  # False: a dry run, or nothing new
    applied: bool | None = None


def _services_settings() -> Settings:
    from dispatch.logs import configure_logging

    settings = Settings()
    missing = [
        n.upper() for n in ("database_url", "kafka_bootstrap_servers") if not getattr(settings, n)
    ]
    if missing:
        raise click.UsageError(f"set {', '.join(missing)} (`dispatch up` prints them)")
    configure_logging(fmt=settings.log_format, level=settings.log_level)  # on stderr
    return settings


def _import(
    plan: Callable[[Services, Batch], Awaitable[T]],
    planned: Callable[[T], list[Planned]],
    *,
    dry_run: bool,
    hint: str,
) -> tuple[T, Outcome]:
    """Plan the whole file with the services, then (unless a dry run) record every event at
    once, relay them and wait until the read models have them."""
    from dispatch.bootstrap import open_services
    from dispatch.ingress.spool import IngressSpool
    from dispatch.interop.batch import Batch, Lookups
    from dispatch.interop.fhir_read import BundleRefused
    from projections.applied import wait_applied
    from projections.journey_queries import JourneyQueries

    settings = _services_settings()

    async def run() -> tuple[T, Outcome]:
        async with open_services(settings, pool_size=2) as services:
            lookups = Lookups(
                JourneyQueries(services.pool, services.risk_queries),
                services.carers,
                services.staff_roster,
                services.clock,
            )
            batch = Batch(lookups)
            result = await plan(services, batch)
            events = batch.pending.events
            if dry_run or not events:
                return result, Outcome(planned(result), recorded=False)
            # The spool's table without the web edge's 2-s limit: a file of rows is
            # recorded in one transaction, however long it takes.
            spool = IngressSpool(services.pool, services.publisher, services.clock)
            await spool.record(events)
            while await spool.relay_once():
                pass
            applied = await wait_applied(
                services.pool, [e.event_id for e in events], APPLY_WAIT_S * 2
            )
            return result, Outcome(planned(result), recorded=True, applied=applied)

    try:
        return asyncio.run(run())
    except ImportRefused as refused:
        raise click.BadParameter("\n".join(refused.problems), param_hint=hint) from None
    except BundleRefused as refused:
        raise click.BadParameter(str(refused), param_hint=hint) from None


def _report(outcome: Outcome, what: str) -> None:
    for item in outcome.planned:
        click.echo(f"{item.source}: {', '.join(e.type for e in item.events)}")
    count = sum(len(item.events) for item in outcome.planned)
    sources = f"{len(outcome.planned)} {what}"
    if not outcome.recorded:
        if count:
            click.echo(f"would record {count} events from {sources} (dry run: nothing recorded)")
        return
    click.echo(f"recorded {count} events from {sources}")
    if outcome.applied:
        click.echo("in force now")
    else:
        click.echo("recorded; in force as soon as the stack's projector applies it")


@click.group("import", epilog=WHERE)
def import_group() -> None:
    """Bring a team's facts in from a file: CSV (clients, carers or staff) or a FHIR R4
    Bundle. The whole file is checked first; when anything is refused nothing is recorded."""


@import_group.command("csv", epilog=WHERE)
@click.argument("file", type=FILE)
@click.option("--kind", required=True, type=click.Choice(KINDS), help="What each row is.")
@click.option(
    "--team",
    "team_id",
    default=None,
    help="The team (clients, staff: unless a team column names it; carers: only "
    "clients of this team).",
)
@DRY_RUN
@BY
def csv_cmd(file: Path, kind: str, team_id: str | None, dry_run: bool, by: str) -> None:
    """Import FILE (UTF-8 CSV with a header row) as clients (enrolment, and referral when a
    referral_source is given), carers (and the client's consent when shares are given) or
    staff joining. A bad row is named by its number (the header is row 1) and column."""
    from dispatch.interop.csv_import import plan_rows

    chosen: Kind = next(k for k in KINDS if k == kind)
    try:
        rows = read_rows(file.read_bytes(), chosen)
    except CsvRefused as refused:
        raise click.BadParameter(str(refused), param_hint="FILE") from None

    async def plan(services: Services, batch: Batch) -> list[Planned]:
        return await plan_rows(batch, chosen, rows, team_id=team_id, by=by)

    _, outcome = _import(plan, lambda p: p, dry_run=dry_run, hint="FILE")
    _report(outcome, "rows")


@import_group.command("fhir", epilog=WHERE)
@click.argument("bundle", type=FILE)
@click.option(
    "--team",
    "team_id",
    default=None,
    help="The team the patients join (else each Patient's managingOrganization); "
    "other resources only for this team's clients.",
)
@DRY_RUN
@BY
def fhir_cmd(bundle: Path, team_id: str | None, dry_run: bool, by: str) -> None:
    """Import a FHIR R4 Bundle (JSON): Patient -> referral and enrolment, RelatedPerson ->
    carer, Consent -> consent granted or revoked, CarePlan -> care plan, Encounter ->
    contact. A resource imported before (same type, id and version) records nothing new."""
    from dispatch.interop.fhir_import import FhirPlan, Importer
    from dispatch.interop.fhir_read import BundleRefused, read_bundle
    from projections.interop_queries import InteropQueries

    try:
        entries = read_bundle(bundle.read_bytes())
    except BundleRefused as refused:
        raise click.BadParameter(str(refused), param_hint="BUNDLE") from None

    async def plan(services: Services, batch: Batch) -> FhirPlan:
        importer = Importer(batch, InteropQueries(services.pool), team_id=team_id, by=by)
        return await importer.plan(entries)

    result, outcome = _import(plan, lambda p: p.planned, dry_run=dry_run, hint="BUNDLE")
    _report(outcome, "resources")
    if result.already:
        click.echo(f"already recorded ({len(result.already)}): {', '.join(result.already)}")
    for line in result.skipped:
        click.echo(f"not mapped: {line}")
    if not outcome.planned:
        click.echo("nothing new: nothing recorded")


@click.group("export", epilog=WHERE)
def export_group() -> None:
    """Write a team's facts out to a file."""


@export_group.command("fhir", epilog=WHERE)
@click.option("--team", "team_id", required=True, help="The team whose caseload to export.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the bundle here (default: standard output).",
)
@click.option("--by", "viewer", default="cli", help="Who reads it (staff id), for the audit.")
def export_fhir_cmd(team_id: str, out: Path | None, viewer: str) -> None:
    """The team's caseload as a FHIR R4 Bundle (JSON): each client's Patient, carers
    (RelatedPerson), consent, care plan and contacts (Encounter). Importing it back records
    nothing new. The read of the clients' records is recorded (ClientRecordsViewed)."""
    from fhir.resources.R4B.patient import Patient

    from dispatch.bootstrap import open_services
    from dispatch.interop.fhir_export import bundle_of, team_resources
    from dispatch.interop.fhir_refs import client_id_of
    from dispatch.risk.intake import records_viewed
    from projections.interop_queries import InteropQueries

    settings = _services_settings()

    async def run() -> tuple[str, int]:
        async with open_services(settings, pool_size=2) as services:
            queries = InteropQueries(services.pool)
            now = services.clock.now()
            clients = {
                c: await queries.client_events(c) for c in await queries.team_clients(team_id)
            }
            resources = team_resources(team_id, clients, now)
            shown = sorted(client_id_of(r) for r in resources if isinstance(r, Patient))
            read = records_viewed(
                team_id=team_id,
                viewer=f"cli:{viewer}",
                view="export:fhir",
                client_ids=shown,
                now=now,
            )
            await services.spool.record([read])
            await services.spool.relay_once()
            bundle = bundle_of(resources, now)
            return bundle.model_dump_json(indent=2, exclude_none=True), len(shown)

    text, count = asyncio.run(run())
    if out is None:
        click.echo(text)
        return
    out.write_text(text + "\n", encoding="utf-8")
    click.echo(f"{out}: {count} clients of team {team_id}")
