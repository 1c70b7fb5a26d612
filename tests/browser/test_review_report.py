"""The review report as a manager opens it: a file in a real headless Chromium."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import asyncpg
from click.testing import CliRunner

from dispatch.cli import main
from projections.pool import connect
from tests.integration.report_scenario import TEAM, project_scenario, window

DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "report.png"
CHARTS = ("#engage-over-time", "#engage-distribution", "#pages-by-hour", "#fidelity",
          "#risk-gen-t0-c0")  # fmt: skip


async def write_report(pg_url: str, out: Path) -> None:
    pool: asyncpg.Pool = await connect(pg_url, max_size=2)
    try:
        await project_scenario(pool)
    finally:
        await pool.close()
    start, end = window()
    args = ["review", "report", "--team", TEAM, "--from", start, "--to", end, "--out", str(out)]
    # in a thread: the command runs an event loop of its own
    result = await asyncio.to_thread(CliRunner().invoke, main, args, env={"DATABASE_URL": pg_url})
    assert result.exit_code == 0, result.output


async def test_the_report_opens_with_its_charts_and_nothing_from_outside(
    page: Any, pg_url: str, tmp_path: Path
) -> None:
    """report.html opens from disk with no console error and no request but itself; every
    chart is drawn (with its dots and bars) and the incidents have their timelines. With
    UPDATE_REPORT_PNG=1 the screenshot is written to docs/report.png (shown in README)."""
    out = tmp_path / "report.html"
    await write_report(pg_url, out)
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    await page.set_viewport_size({"width": 840, "height": 1500})
    await page.goto(out.as_uri())
    assert page.console_errors == []
    assert requested == [out.as_uri()]
    for chart in CHARTS:
        box = await page.locator(f"{chart} svg").bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100, chart
    assert await page.locator("#engage-over-time circle.dot").count() >= 10
    assert await page.locator("#pages-by-hour rect.bar").count() == 24
    assert await page.locator("figure[id^='timeline-']").count() >= 10
    assert await page.locator("figure[id^='risk-']").count() == 4
    assert "Incident review: gen-t0" in await page.inner_text("h1")
    shot = DOCS_SCREENSHOT if os.environ.get("UPDATE_REPORT_PNG") == "1" else tmp_path / "r.png"
    await page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000
