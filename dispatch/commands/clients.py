"""`dispatch referral`, `dispatch client` and `dispatch careplan`: a client's journey from
referral to discharge and re-referral, and their care plan, on the command line. Each
change is checked like the team API checks it and recorded as events (spooled, then Kafka).
"""

from __future__ import annotations

import click

from dispatch.commands.journey import AT, BY, parsed, record

SOURCES = click.Choice(["cmht", "mental_health_team", "gp", "self", "family", "other"])
GENDERS = click.Choice(["female", "male", "nonbinary", "unspecified"])


@click.group()
def referral() -> None:
    """Referrals to a team: receive, accept, decline. An Assertive Outreach (AOT) team takes
    referrals only from a community mental health team or another mental-health team."""


@referral.command("receive")
@click.argument("client_id")
@click.option("--team", "team_id", required=True, help="The team referred to.")
@click.option("--name", "display_name", required=True, help="The client's name.")
@click.option("--source", required=True, type=SOURCES, help="Who refers the client.")
@click.option("--source-team", default=None, help="The referring team (cmht, mental_health_team).")
@click.option("--criterion", "criteria_met", multiple=True, required=True,
              help="A criterion met, e.g. severe_mental_illness (repeat for more).")  # fmt: skip
@click.option("--note", default=None, help="Anything the team should know.")
@AT
@BY
def referral_receive(client_id: str, team_id: str, by: str, **given: object) -> None:
    """Record a referral of CLIENT_ID to a team (ReferralReceived)."""
    from dispatch.clients.inputs import ReferralInput

    body = parsed(ReferralInput, **given)
    record(lambda journey: journey.receive_referral(client_id, team_id, body, actor=by))


@referral.command("accept")
@click.argument("client_id")
@AT
@BY
def referral_accept(client_id: str, by: str, **given: object) -> None:
    """Accept CLIENT_ID's open referral (ReferralAccepted); enrol them next."""
    from dispatch.clients.inputs import JourneyInput

    body = parsed(JourneyInput, **given)
    record(lambda journey: journey.accept_referral(client_id, body, actor=by))


@referral.command("decline")
@click.argument("client_id")
@click.option("--reason", required=True, help="Why the team does not take the client on.")
@AT
@BY
def referral_decline(client_id: str, by: str, **given: object) -> None:
    """Decline CLIENT_ID's open referral, with the reason (ReferralDeclined)."""
    from dispatch.clients.inputs import DeclineInput

    body = parsed(DeclineInput, **given)
    record(lambda journey: journey.decline_referral(client_id, body, actor=by))


@click.group()
def client() -> None:
    """A client's place on a caseload: enrol, transfer, discharge, re-refer."""


@client.command("enrol")
@click.argument("client_id")
@click.option("--team", "team_id", required=True, help="The team whose caseload they join.")
@click.option(
    "--name", "display_name", default=None, help="The client's name (default: the referral's)."
)
@click.option(
    "--phone",
    "phones",
    multiple=True,
    help="A phone number, E.164 (repeat; the first is the main one).",
)
@click.option(
    "--coordinator",
    "care_coordinator_id",
    default=None,
    help="The care coordinator (ICM: the case manager); needed by ICM and AOT teams.",
)
@click.option(
    "--gender-preference",
    "preferred_gender",
    type=GENDERS,
    default=None,
    help="The worker gender the client prefers.",
)
@click.option("--language", default=None, help="The client's language (e.g. en, pl, cy).")
@click.option("--cultural-needs", default=None, help="Cultural or religious needs, as a note.")
@AT
@BY
def client_enrol(client_id: str, team_id: str, by: str, **given: object) -> None:
    """Put CLIENT_ID on a team's caseload (ClientEnrolled, with the team's contact target).
    An Assertive Outreach team enrols only a client whose referral it accepted."""  # fmt: skip
    from dispatch.clients.inputs import EnrolInput

    body = parsed(EnrolInput, **given)
    record(lambda journey: journey.enrol(client_id, team_id, body, actor=by))


@client.command("transfer")
@click.argument("client_id")
@click.option("--to", "to_team_id", required=True, help="The team taking the client over.")
@click.option("--coordinator", "care_coordinator_id", default=None, help="Their coordinator there.")
@click.option("--reason", default=None, help="Why (e.g. moved home).")
@AT
@BY
def client_transfer(client_id: str, by: str, **given: object) -> None:
    """Ask another team to take CLIENT_ID over (ClientTransferRequested). The old team keeps
    contact until the new team's first face-to-face visit completes it (TransferCompleted)."""
    from dispatch.clients.inputs import TransferInput

    body = parsed(TransferInput, **given)
    record(lambda journey: journey.transfer(client_id, body, actor=by))


@client.command("discharge")
@click.argument("client_id")
@click.option("--reason", required=True, help="Why, and where care goes on (e.g. to the GP).")
@click.option(
    "--client-involved/--client-not-involved",
    "client_involved",
    default=None,
    help="Whether the client took part in planning it (default: yes).",
)
@click.option(
    "--carer",
    "carers_involved",
    multiple=True,
    help="A carer who took part (the client must consent to share with them).",
)
@click.option("--planned/--unplanned", "planned", default=None, help="Planned (default) or not.")
@AT
@BY
def client_discharge(client_id: str, by: str, **given: object) -> None:
    """Discharge CLIENT_ID from their team's caseload (ClientDischarged), recording who
    planned it with the team."""  # fmt: skip
    from dispatch.clients.inputs import DischargeInput

    body = parsed(DischargeInput, **given)
    record(lambda journey: journey.discharge(client_id, body, actor=by))


@client.command("re-refer")
@click.argument("client_id")
@click.option("--source", required=True, type=SOURCES, help="Who re-refers the client.")
@click.option("--source-team", default=None, help="The referring team (cmht, mental_health_team).")
@click.option("--reason", default=None, help="Why they need the team again.")
@click.option(
    "--coordinator",
    "care_coordinator_id",
    default=None,
    help="Their care coordinator (default: the one they had).",
)
@AT
@BY
def client_re_refer(client_id: str, by: str, **given: object) -> None:
    """Put a discharged CLIENT_ID back on their team's caseload in one step
    (ClientReReferred); their history stays."""  # fmt: skip
    from dispatch.clients.inputs import ReReferralInput

    body = parsed(ReReferralInput, **given)
    record(lambda journey: journey.re_refer(client_id, body, actor=by))


@click.group()
def careplan() -> None:
    """The client's care plan under the Care Programme Approach, reviewed every six months
    (the huddle board flags an overdue review). The relapse plan is `dispatch plan`."""


@careplan.command("record")
@click.argument("client_id")
@click.option("--summary", required=True, help="Needs and how the team meets them.")
@click.option("--goal", "goals", multiple=True, help="A goal (repeat for more).")
@click.option(
    "--coordinator",
    "care_coordinator_id",
    default=None,
    help="The care coordinator (default: the client's).",
)
@click.option(
    "--client-involved/--client-not-involved",
    "client_involved",
    default=None,
    help="Whether the client agreed it (default: yes).",
)
@click.option("--carer", "carers_involved", multiple=True, help="A carer involved (with consent).")
@AT
@BY
def careplan_record(client_id: str, by: str, **given: object) -> None:
    """Record CLIENT_ID's care plan (CarePlanRecorded)."""
    from dispatch.clients.inputs import CarePlanInput

    body = parsed(CarePlanInput, **given)
    record(lambda journey: journey.care_plan(client_id, body, actor=by))


@careplan.command("review")
@click.argument("client_id")
@click.option("--note", required=True, help="What the review found and changed.")
@click.option("--goal", "goals", multiple=True, help="The goals from now on (replace the plan's).")
@click.option(
    "--client-involved/--client-not-involved",
    "client_involved",
    default=None,
    help="Whether the client took part (default: yes).",
)
@click.option("--carer", "carers_involved", multiple=True, help="A carer involved (with consent).")
@AT
@BY
def careplan_review(client_id: str, by: str, **given: object) -> None:
    """Record a review of CLIENT_ID's care plan (CarePlanReviewed); the next is due in six
    months."""
    from dispatch.clients.inputs import CarePlanReviewInput

    body = parsed(CarePlanReviewInput, **given)
    record(lambda journey: journey.care_plan_review(client_id, body, actor=by))
