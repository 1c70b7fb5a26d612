"""`dispatch review report` on a real PostgreSQL: one HTML file, the same figures as JSON and
CSV, and the read of every client it shows recorded before it is written."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

from click.testing import CliRunner

from dispatch.cli import main
from projections.pool import connect
from tests.integration.report_scenario import TEAM, project_scenario, window


def scenario(url: str) -> None:
    async def go() -> None:
        pool = await connect(url, max_size=2)
        try:
            await project_scenario(pool)
        finally:
            await pool.close()

    asyncio.run(go())


def audits(url: str) -> list[dict[str, object]]:
    async def go() -> list[dict[str, object]]:
        pool = await connect(url, max_size=1)
        try:
            rows = await pool.fetch("SELECT value FROM ingress_spool ORDER BY seq")
            return [json.loads(r["value"]) for r in rows]
        finally:
            await pool.close()

    return asyncio.run(go())


def test_report_writes_one_page_and_records_the_read(pg_url: str, tmp_path: Path) -> None:
    """The HTML names the team, carries inline SVG charts and no script or outside link, and
    a ClientRecordsViewed (view review:report) names every client it shows."""
    scenario(pg_url)
    start, end = window()
    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        main,
        ["review", "report", "--team", TEAM, "--from", start, "--to", end, "--out", str(out),
         "--by", "s-manager"],
        env={"DATABASE_URL": pg_url},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    assert "https://" not in page
    assert page.count("<svg") >= 5
    for chart in ('id="engage-over-time"', 'id="engage-distribution"', 'id="pages-by-hour"',
                  'id="fidelity"', 'id="risk-gen-t0-c0"', 'id="timeline-'):  # fmt: skip
        assert chart in page
    [read] = [e for e in audits(pg_url) if e["type"] == "ClientRecordsViewed"]
    assert read["payload"]["view"] == "review:report"
    assert read["payload"]["viewer"] == "cli:s-manager"
    shown = {f"gen-t0-c{k}" for k in range(4)}
    assert shown <= set(read["payload"]["client_ids"])
    assert "the read of" in result.output


def test_json_and_csv_carry_the_same_figures(pg_url: str) -> None:
    """The JSON export and the CSV export give the same incidents, engage times, pages by
    hour and risk changes."""
    scenario(pg_url)
    start, end = window()
    runner = CliRunner()
    args = ["review", "report", "--team", TEAM, "--from", start, "--to", end]
    as_json = runner.invoke(main, [*args, "--format", "json"], env={"DATABASE_URL": pg_url})
    as_csv = runner.invoke(main, [*args, "--format", "csv"], env={"DATABASE_URL": pg_url})
    assert as_json.exit_code == 0 and as_csv.exit_code == 0, as_json.output + as_csv.output
    report = json.loads(as_json.output)
    rows = list(csv.DictReader(io.StringIO(as_csv.output)))

    def section(name: str) -> list[dict[str, str]]:
        return [r for r in rows if r["section"] == name]

    assert len(report["incidents"]) == len(section("incident")) > 5
    engage = [p["seconds"] for p in report["time_to_engage"]]
    assert [
        float(r["seconds"]) if r["seconds"] else None for r in section("time_to_engage")
    ] == engage
    assert [int(r["pages"]) for r in section("pages_by_hour")] == [
        h["pages"] for h in report["pages_by_hour"]
    ]
    assert sum(int(r["pages"]) for r in section("pages_by_hour")) == sum(
        len(i["pages"]) for i in report["incidents"]
    )
    changes = sum(len(c["changes"]) + 1 for c in report["risk"])
    assert len(section("risk")) == changes
    assert [r["code"] for r in section("fidelity")] == [
        i["code"] for i in report["fidelity"]["items"]
    ]


def test_an_unknown_team_or_another_teams_client_is_refused(pg_url: str) -> None:
    """--team naming no team and --client naming nobody of the team: exit 2 naming the
    option, nothing recorded."""
    scenario(pg_url)
    runner = CliRunner()
    env = {"DATABASE_URL": pg_url}
    nobody = runner.invoke(main, ["review", "report", "--team", "no-such-team"], env=env)
    assert nobody.exit_code == 2 and "--team" in nobody.output
    other = runner.invoke(
        main, ["review", "report", "--team", TEAM, "--client", "c-elsewhere"], env=env
    )
    assert other.exit_code == 2 and "--client" in other.output
    assert [e for e in audits(pg_url) if e["type"] == "ClientRecordsViewed"] == []
