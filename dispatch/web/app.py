"""The aiohttp application of the web edge: Twilio webhooks and the team API."""

from __future__ import annotations

from aiohttp import web

from dispatch.bootstrap import Services
from dispatch.web import (
    api,
    calls,
    clients_api,
    dispatch_api,
    risk_api,
    rota_api,
    status,
    texts,
    voice_hooks,
    voicemail,
)
from dispatch.web.context import CONTEXT
from dispatch.web.http import api_errors
from dispatch.web.openapi import mount_api
from dispatch.web.security import twilio_signature_required

MAX_BODY = 64 * 1024


def make_web_app(services: Services) -> web.Application:
    app = web.Application(
        middlewares=[api_errors, twilio_signature_required], client_max_size=MAX_BODY
    )
    app[CONTEXT] = services
    for webhooks in (calls, voicemail, texts, status, voice_hooks):
        app.add_routes(webhooks.routes)
    mount_api(
        app,
        [
            api.routes,
            dispatch_api.routes,
            rota_api.routes,
            risk_api.routes,
            clients_api.routes,
            api.health_routes,
        ],
    )
    return app
