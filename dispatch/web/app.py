"""The aiohttp application of the web edge."""

from __future__ import annotations

from aiohttp import web

from dispatch.bootstrap import Services
from dispatch.risk.api import add_risk_routes
from dispatch.rota import api as rota_api
from dispatch.web import api, calls, dispatch_api, status, texts, voice_hooks, voicemail
from dispatch.web.context import CONTEXT
from dispatch.web.security import twilio_signature_required


def make_web_app(services: Services) -> web.Application:
    app = web.Application(middlewares=[twilio_signature_required], client_max_size=64 * 1024)
    app[CONTEXT] = services
    app.add_routes(calls.routes)
    app.add_routes(voicemail.routes)
    app.add_routes(texts.routes)
    app.add_routes(status.routes)
    app.add_routes(voice_hooks.routes)
    app.add_routes(api.routes)
    app.add_routes(dispatch_api.routes)
    app.add_routes(rota_api.routes)
    add_risk_routes(app, services.settings.database_url)
    return app
