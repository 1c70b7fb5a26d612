"""`dispatch contact`: a contact with a client, by one or several staff (each counts it)."""

from __future__ import annotations

import click

from dispatch.commands.journey import AT, parsed, record


@click.command()
@click.argument("client_id")
@click.option(
    "--kind",
    required=True,
    type=click.Choice(["face_to_face", "phone", "attempted"]),
    help="A visit, a phone call, or an attempt that did not reach the client.",
)
@click.option(
    "--where",
    type=click.Choice(["home", "community", "office"]),
    default=None,
    help="Where a visit took place.",
)
@click.option("--minutes", type=int, default=None, help="How long it lasted.")
@click.option(
    "--staff",
    "staff_ids",
    multiple=True,
    required=True,
    help="A staff member who took part (repeat: each counts the contact).",
)
@click.option("--note", default=None, help="A short note.")
@click.option(
    "--carer",
    "carer_id",
    default=None,
    help="A carer of the client who took part (the client's consent to share must be in "
    "force); counts for DACTS S6.",
)
@AT
@click.option("--by", "by", default=None, help="Who records it (default: the first --staff).")
def contact(client_id: str, by: str | None, **given: object) -> None:
    """Record a contact with CLIENT_ID (ContactRecorded).

    A face-to-face contact ends a crisis hold and closes the client's open outreach tasks
    and post-crisis follow-ups; a phone contact closes follow-ups; an attempted one raises
    the risk score. During a transfer, the new team's first visit completes it."""  # fmt: skip
    from dispatch.clients.inputs import ContactInput

    body = parsed(ContactInput, **given)
    actor = by or body.staff_ids[0]
    record(lambda journey: journey.contact(client_id, body, actor=actor))
