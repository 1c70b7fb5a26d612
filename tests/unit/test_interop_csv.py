"""CSV files read and decided against an in-memory system: documented columns, UTF-8, a
header; every bad row named by number and column, and nothing planned when any is bad."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dispatch.interop.batch import ImportRefused
from dispatch.interop.csv_import import plan_rows
from dispatch.interop.csv_rows import CsvRefused, Kind, read_rows
from tests.unit.interop_world import NOW, TEAM, World


def test_rows_keep_their_numbers_and_split_lists() -> None:
    """The header is row 1; blank lines are skipped; `;` separates several values."""
    rows = read_rows(b"client_id,name,phone\n\nc-1,One,+15550000001;+15550000002\n", "clients")
    assert [(r.number, r.one("name"), r.many("phone")) for r in rows] == [
        (3, "One", ("+15550000001", "+15550000002"))
    ]


def test_a_byte_order_mark_is_fine() -> None:
    """Spreadsheets' UTF-8 with a BOM reads like plain UTF-8."""
    assert read_rows("\ufeffclient_id,name\nc-1,Zoë\n".encode(), "clients")[0].one("name") == "Zoë"


@pytest.mark.parametrize(
    ("data", "kind", "said"),
    [
        (b"client_id,name,nickname\n", "clients", "row 1, column nickname: not a clients column"),
        (b"client_id,phone\n", "clients", "row 1, column name: missing"),
        (b"client_id,name,name\n", "clients", "row 1, column name: named twice"),
        (b"client_id,name\nc-1,\n", "clients", "row 2, column name: empty"),
        (b"client_id,name\nc-1,A,extra\n", "clients", "row 2: 3 cells for 2 columns"),
        (b"client_id,name\nc-1,Zo\xeb\n", "clients", "row 2: not UTF-8"),
        (b"", "staff", "row 1: no header row"),
        (b"staff_id,name,role,phone\n", "staff", "no data rows"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_naming_where(
    data: bytes, kind: Kind, said: str
) -> None:
    """Unknown, missing, doubled or empty columns, extra cells, other encodings, no header."""
    with pytest.raises(CsvRefused) as refused:
        read_rows(data, kind)
    assert str(refused.value).startswith(said)


async def test_every_bad_row_is_named_and_nothing_is_planned() -> None:
    """A bad phone (row 3), a coordinator of another team (row 4), an unknown team (row 5):
    each named with its column (the command then records nothing, row 2 neither)."""
    rows = read_rows(
        b"client_id,name,phone,coordinator,team\n"
        b"c-1,One,+15550000001,,\n"
        b"c-2,Two,07940,,\n"
        b"c-3,Three,+15550000003,s-aot,\n"
        b"c-4,Four,+15550000004,,act-nowhere\n",
        "clients",
    )
    batch = World().batch()
    with pytest.raises(ImportRefused) as refused:
        await plan_rows(batch, "clients", rows, team_id=TEAM, by="s-imp-lead")
    assert [p.split(":")[0] for p in refused.value.problems] == [
        "row 3, column phone",
        "row 4, column coordinator",
        "row 5, column team",
    ]


async def test_a_carer_row_sees_the_client_enrolled_above_in_the_same_import() -> None:
    """Rows are decided in order on top of each other: two carers of one client, one with
    the client's consent; the whole file is planned, not yet recorded."""
    world = World()
    clients = read_rows(b"client_id,name\nc-1,One\n", "clients")
    batch = world.batch()
    await plan_rows(batch, "clients", clients, team_id=TEAM, by="s-imp-lead")
    review = (NOW + timedelta(days=30)).date().isoformat()
    carers = read_rows(
        b"client_id,carer_id,name,phone,relationship,shares,review_by\n"
        b"c-1,k-1,Kay,+15550000101,sister,crisis_status," + review.encode() + b"\n"
        b"c-1,k-2,Lee,+15550000102,friend,,\n",
        "carers",
    )
    planned = await plan_rows(batch, "carers", carers, team_id=TEAM, by="s-imp-lead")
    assert [[e.type for e in p.events] for p in planned] == [
        ["CarerRegistered", "ConsentGranted"],
        ["CarerRegistered"],
    ]
    assert world.events == []


async def test_a_carer_of_another_teams_client_is_refused_with_team() -> None:
    """With --team, only clients of that team: the client id column is named."""
    world = World()
    rows = read_rows(b"client_id,name\nc-9,Nine\n", "clients")
    batch = world.batch()
    world.events += [
        e
        for p in await plan_rows(batch, "clients", rows, team_id=TEAM, by="s-imp-lead")
        for e in p.events
    ]
    carers = read_rows(
        b"client_id,carer_id,name,phone,relationship\nc-9,k-9,Kim,+15550000109,son\n", "carers"
    )
    with pytest.raises(ImportRefused, match="row 2, column client_id: no client 'c-9'"):
        await plan_rows(world.batch(), "carers", carers, team_id="aot-imp", by="s-aot")
