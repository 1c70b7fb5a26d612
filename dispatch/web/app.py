"""The aiohttp application of the web edge: Twilio webhooks and the team API."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from dispatch.bootstrap import Services
from dispatch.web import (
    api,
    calls,
    carers_api,
    clients_api,
    dispatch_api,
    review_api,
    risk_api,
    rota_api,
    staff_api,
    status,
    team_api,
    texts,
    voice_hooks,
    voicemail,
)
from dispatch.web.console import mount_console
from dispatch.web.context import CONTEXT
from dispatch.web.http import api_errors
from dispatch.web.openapi import mount_api
from dispatch.web.security import twilio_signature_required
from dispatch.web.webhook import twilio_never_fails

MAX_BODY = 64 * 1024


def make_web_app(services: Services) -> web.Application:
    app = web.Application(
        middlewares=[api_errors, twilio_never_fails, twilio_signature_required],
        client_max_size=MAX_BODY,
    )
    app[CONTEXT] = services
    app.cleanup_ctx.append(api.dead_mans_switch)
    app.cleanup_ctx.append(_rota_cache)
    for webhooks in (calls, voicemail, texts, status, voice_hooks):
        app.add_routes(webhooks.routes)
    mount_api(
        app,
        [
            api.routes,
            dispatch_api.routes,
            rota_api.routes,
            risk_api.routes,
            review_api.routes,
            team_api.routes,
            api.health_routes,
            staff_api.routes,
            carers_api.routes,
            clients_api.routes,
        ],
    )
    mount_console(app)  # the web console: /console/ and /d/<code> (docs/console.md)
    return app


async def _rota_cache(app: web.Application) -> AsyncIterator[None]:
    """The routing facts are kept in memory while the edge runs (ROTA_CACHE_REFRESH_S 0: off)."""
    services = app[CONTEXT]
    if services.settings.rota_cache_refresh_s > 0:
        await services.rota_cache.start()
    yield
    await services.rota_cache.stop()
