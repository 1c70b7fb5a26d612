"""`dispatch carer add|assess` and `dispatch consent grant|revoke`: a client's carers, what
the client lets the team tell them, and the carers' own assessments, as events checked
like the team API's."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import click

from dispatch.clients.events import CONSENT_SHARES
from dispatch.clients.intake import (
    AssessmentInput,
    CarerInput,
    ConsentInput,
    RevokeInput,
    add_carer,
    assess_carer,
    grant_consent,
    revoke_consent,
)
from dispatch.commands.changes import BY_HELP, parse_input, record_change, report

if TYPE_CHECKING:
    from dispatch.bootstrap import Services
    from dispatch.events import Envelope

OPTIONS = {
    "client_id": "CLIENT_ID",
    "carer_id": "--carer",
    "display_name": "--name",
    "shares": "--share",
    "needs": "--need",
    "support": "--support",
}
WHERE = """
Changes are spooled in PostgreSQL (DATABASE_URL) and relayed to Kafka
(KAFKA_BOOTSTRAP_SERVERS) at once; `dispatch up` prints both. Dates are YYYY-MM-DD."""
DATE = click.DateTime(formats=["%Y-%m-%d"])


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


@click.group(epilog=WHERE)
def carer() -> None:
    """A client's carers: register one, record their own assessment and care plan."""


@carer.command("add")
@click.argument("client_id")
@click.option("--carer", "carer_id", required=True, help="The carer's id.")
@click.option("--name", "display_name", required=True, help="The carer's name.")
@click.option("--phone", required=True, help="The number they call from, E.164.")
@click.option("--relationship", required=True, help="e.g. parent, partner, friend.")
@click.option("--by", "by", required=True, help=BY_HELP)
def add_cmd(
    client_id: str, carer_id: str, display_name: str, phone: str, relationship: str, by: str
) -> None:
    """Register a carer of CLIENT_ID (CarerRegistered). They may be told nothing about the
    client until `dispatch consent grant` records the client's consent."""
    req = parse_input(CarerInput, {"carer_id": carer_id, "display_name": display_name,
                                   "phone": phone, "relationship": relationship},
                      OPTIONS)  # fmt: skip

    async def build(services: Services, now: datetime) -> list[Envelope]:
        return [await add_carer(services.carers, client_id, req, team_id=None, now=now,
                                actor=f"cli:{by}")]  # fmt: skip

    report(record_change(build, options=OPTIONS))


@carer.command("assess")
@click.argument("client_id")
@click.option("--carer", "carer_id", required=True, help="The carer assessed.")
@click.option("--need", "needs", multiple=True, required=True, help="A need found (repeat).")
@click.option("--support", "support", multiple=True, help="Support offered (repeat).")
@click.option("--review-by", type=DATE, default=None, help="Next review (default a year on).")
@click.option("--by", "by", required=True, help=BY_HELP)
def assess_cmd(
    client_id: str,
    carer_id: str,
    needs: tuple[str, ...],
    support: tuple[str, ...],
    review_by: datetime | None,
    by: str,
) -> None:
    """Record a carer's own assessment and care plan, or its review
    (CarerAssessmentRecorded); the huddle board flags it as its review comes due."""
    req = parse_input(AssessmentInput, {"needs": needs, "support": support,
                                        "review_by": _day(review_by)}, OPTIONS)  # fmt: skip

    async def build(services: Services, now: datetime) -> list[Envelope]:
        return [await assess_carer(services.carers, client_id, carer_id, req, team_id=None,
                                   now=now, actor=f"cli:{by}")]  # fmt: skip

    report(record_change(build, options=OPTIONS))


@click.group(epilog=WHERE)
def consent() -> None:
    """What a client lets the team tell a carer: grant it (with a review date), revoke it.
    A revocation is in force at once: the carer's next call is told nothing about the client
    and their signals are refused."""


@consent.command("grant")
@click.argument("client_id")
@click.option("--carer", "carer_id", required=True, help="The carer consented to.")
@click.option("--share", "shares", multiple=True, required=True, type=click.Choice(CONSENT_SHARES),
              help="What may be shared (repeat).")  # fmt: skip
@click.option("--review-by", type=DATE, required=True, help="Review with the client by.")
@click.option("--note", default="", help="How and when the client agreed.")
@click.option("--by", "by", required=True, help=BY_HELP)
def grant_cmd(
    client_id: str,
    carer_id: str,
    shares: tuple[str, ...],
    review_by: datetime,
    note: str,
    by: str,
) -> None:
    """The client consents to share the --share items with the carer (ConsentGranted);
    it replaces any consent in force for that carer."""
    req = parse_input(ConsentInput, {"shares": shares, "review_by": _day(review_by),
                                     "note": note}, OPTIONS)  # fmt: skip

    async def build(services: Services, now: datetime) -> list[Envelope]:
        return [await grant_consent(services.carers, client_id, carer_id, req, team_id=None,
                                    now=now, actor=f"cli:{by}")]  # fmt: skip

    report(record_change(build, options=OPTIONS, wait_applied=True))


@consent.command("revoke")
@click.argument("client_id")
@click.option("--carer", "carer_id", required=True, help="The carer consent is withdrawn from.")
@click.option("--reason", default="", help="Why (kept with the event).")
@click.option("--by", "by", required=True, help=BY_HELP)
def revoke_cmd(client_id: str, carer_id: str, reason: str, by: str) -> None:
    """The client withdraws consent (ConsentRevoked): from now on the carer is told nothing
    about them."""
    req = parse_input(RevokeInput, {"reason": reason}, OPTIONS)

    async def build(services: Services, now: datetime) -> list[Envelope]:
        return [await revoke_consent(services.carers, client_id, carer_id, req, team_id=None,
                                     now=now, actor=f"cli:{by}")]  # fmt: skip

    report(record_change(build, options=OPTIONS, wait_applied=True))
