"""The aiohttp application of the web edge."""

from __future__ import annotations

from aiohttp import web

from dispatch.risk import api as risk_api
from dispatch.rota import api as rota_api
from dispatch.web import api, dispatch_api, twilio_hooks, voice_hooks
from dispatch.web.context import CONTEXT, WebContext
from dispatch.web.http import api_errors
from dispatch.web.openapi import mount_api
from dispatch.web.security import twilio_signature_required

MAX_BODY = 64 * 1024


def make_web_app(context: WebContext) -> web.Application:
    app = web.Application(
        middlewares=[api_errors, twilio_signature_required], client_max_size=MAX_BODY
    )
    app[CONTEXT] = context
    app.add_routes(twilio_hooks.routes)
    app.add_routes(voice_hooks.routes)
    mount_api(
        app,
        [api.routes, dispatch_api.routes, rota_api.routes, risk_api.routes, api.health_routes],
    )
    return app
