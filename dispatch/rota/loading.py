"""Loading a rota file against what is recorded: the one path of `dispatch rota load` and
of the demo's team (a real team's first day is a rota file).

`rotafile.parse` checks the file on its own (fields, times of day, unknown staff, spans,
primary and backup at once); this adds the checks that need the recorded roster and then
gives the events `rotafile.to_events` makes. A refusal is RotaRefused naming the file's
field (`staff[2].id`) and nothing is recorded.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dispatch.events import Envelope
from dispatch.rota.checks import refuse
from dispatch.rota.rotafile import RotaFile, to_events
from dispatch.rota.staff_intake import RosterLookup


async def load_changes(
    lookup: RosterLookup, spec: RotaFile, *, now: datetime, actor: str
) -> list[Envelope]:
    """The events of one load of a parsed rota file at `now`. Someone who has left the team
    cannot be put back by a file (StaffRegistered never undoes a departure): they are
    refused, naming the file's entry, with the command that brings a leaver back."""
    rota = await lookup.team_rota(spec.team.id, now, now + timedelta(microseconds=1))
    for i, member in enumerate(spec.staff):
        left = rota.left_at(member.id)
        if left is not None and rota.has_left(member.id, now):
            raise refuse(
                f"staff[{i}].id",
                f"{member.id!r} left the team at {left.isoformat()}; remove them or record "
                "`dispatch staff join`",
                409,
            )
    return to_events(spec, now=now, actor=actor)
