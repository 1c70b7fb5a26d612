"""What the web handlers share: the process's services, from the composition root."""

from __future__ import annotations

from aiohttp import web

from dispatch.bootstrap import Services

WebContext = Services  # the name handlers use for what they are given

CONTEXT: web.AppKey[Services] = web.AppKey("services", Services)


def ctx(request: web.Request) -> Services:
    return request.app[CONTEXT]
