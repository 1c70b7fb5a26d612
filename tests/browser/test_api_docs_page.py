"""The API docs page as a person sees it in a real browser."""

from __future__ import annotations

from typing import Any

from tests.unit.api_fakes import fake_api


async def test_the_api_docs_page_renders_every_path_with_nothing_from_outside(page: Any) -> None:
    """/api/docs opens in Chromium with no console error and no failed request, and shows
    the paths of the OpenAPI document, all served from the app itself."""
    async with fake_api() as (client, _, _):
        document = await (await client.get("/api/openapi.json")).json()
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url))
        await page.goto(str(client.make_url("/api/docs")))
        text = await page.inner_text("body")
        assert page.console_errors == []
        for path in document["paths"]:
            assert path in text
        origin = str(client.make_url("/"))
        assert all(url.startswith(origin) for url in requested), requested
