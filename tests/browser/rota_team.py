"""A team of its own for the rota, huddle and sign-in-by-code page tests: a daily rotation
for each layer (a swap in it), covered hours around the time the tests run (so the week
shows the out-of-hours fallback while someone is on call now), a client, a spare nurse
for overrides, and a console account for each person."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from dispatch.events import Envelope
from dispatch.rota.events import CoverageSet, RotationDefined, ShiftsSwapped
from dispatch.web.console.passwords import hash_password
from projections.console_accounts import ConsoleAccounts, NewAccount
from tests.e2e.team_seed import TeamSeed

TEAM = "act-rota-page"
LINE = "+15005550077"
ANN, BOB, CAT, LEAD, SPARE = "rp-ann", "rp-bob", "rp-cat", "rp-lead", "rp-spare"
STAFF = {
    ANN: ("+15550137001", "nurse", "Ann Moreau"),
    BOB: ("+15550137002", "social_worker", "Bob Lindqvist"),
    CAT: ("+15550137003", "psychiatrist", "Cat Oduya"),
    LEAD: ("+15550137004", "team_lead", "Dee Marsh"),
    SPARE: ("+15550137005", "nurse", "Eli Navarro"),
}
CLIENT = ("rp-c1", "+15550138001")
PASSWORD = "orchard ferry copper 77"
ZONE = "Europe/London"  # TeamSeed's


def rota_team_events(now: datetime) -> list[Envelope]:
    seed = TeamSeed(now, TEAM)
    seed.team(name="ACT Harbourside", fallback_number="+15005550078", crisis_line_number=LINE)
    for staff_id, (phone, role, name) in STAFF.items():
        seed.staff(staff_id, phone=phone, role=role, gender="unspecified", display_name=name)  # type: ignore[arg-type]
    hour = now.astimezone(ZoneInfo(ZONE)).hour
    hours = CoverageSet(team_id=TEAM, all_day=False, opens=time((hour - 2) % 24),
                        closes=time((hour + 12) % 24), fallback_team_id="act-north")  # fmt: skip
    seed.emit(hours, TEAM)
    start = now - timedelta(days=2)
    for layer, people in (("primary", (ANN, BOB, CAT)), ("backup", (BOB, CAT, ANN))):
        seed.emit(RotationDefined(team_id=TEAM, rotation_id=f"daily-{layer}", layer=layer,  # type: ignore[arg-type]
                                  period="daily", handoff_time=time(8), participants=people,
                                  starts_at=start), TEAM)  # fmt: skip
    seed.emit(ShiftsSwapped(team_id=TEAM, swap_id="swap-ann-lead", layer="primary",
                            staff_a=ANN, staff_b=LEAD, starts_at=now + timedelta(days=2),
                            ends_at=now + timedelta(days=5)), TEAM)  # fmt: skip
    seed.client(CLIENT[0], phone=CLIENT[1])
    return seed.events


async def add_rota_accounts(accounts: ConsoleAccounts, now: datetime) -> None:
    stored = hash_password(PASSWORD)
    for staff_id in STAFF:
        role = "team_lead" if staff_id == LEAD else "staff"
        await accounts.create(NewAccount(account_id=staff_id, staff_id=staff_id, team_id=None,
                                         role=role, created_at=now, created_by="test",
                                         password_hash=stored))  # fmt: skip
